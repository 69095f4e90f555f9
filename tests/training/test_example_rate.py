"""The Rate-layer regression example: loss falls 10x and tau respects the 10 ms bound."""

import numpy as np

from ._example import load


def test_rate_bound_respected_after_few_epochs():
    ex = load()
    init_tau = np.asarray(ex.build("rate")[1].tau)
    assert init_tau.min() < ex.TAU_MIN  # the bound is active from the start
    res = ex.train("rate", epochs=15)
    assert np.all(res["tau"] >= ex.TAU_MIN)


def test_rate_loss_falls_tenfold_with_bound():
    ex = load()
    res = ex.train("rate")  # default epochs
    assert res["losses"][-1] < res["losses"][0] / 10
    assert np.all(res["tau"] >= ex.TAU_MIN)
