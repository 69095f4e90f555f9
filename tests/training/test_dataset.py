import numpy as np
import pytest

from dendrax.training import Dataset


def test_batches_cover_data_and_shuffle_is_deterministic():
    x, y = np.arange(10)[:, None] * 1.0, np.arange(10)
    ds = Dataset(x, y).batch(4)
    assert len(ds) == 3
    batches = list(ds)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    order1 = np.concatenate([b[1] for b in ds.shuffle(seed=3)])
    order2 = np.concatenate([b[1] for b in Dataset(x, y).batch(4).shuffle(seed=3)])
    np.testing.assert_array_equal(order1, order2)
    assert sorted(order1) == list(y) and not np.array_equal(order1, y)
    for xb, yb in ds:
        np.testing.assert_array_equal(xb[:, 0], yb)  # inputs and labels stay paired
    assert len(Dataset(x, y).batch(4, drop_last=True)) == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        Dataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        Dataset(np.zeros(3), np.zeros(3)).batch(0)
