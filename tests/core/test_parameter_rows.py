"""Writing trainable values into table rows (`simulator.params._set_rows`), against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.simulator.params import _set_rows

jax.config.update("jax_enable_x64", True)


def _numpy_reference(column, rows, vals, param_of_row):
    out = np.array(column, dtype=float)
    out[rows] = vals[param_of_row]
    return out


@pytest.mark.parametrize(
    "rows, param_of_row",
    [
        (np.array([3, 1, 0, 2, 5, 4]), np.array([0, 0, 1, 1, 2, 2])),  # every row, permuted
        (np.arange(6), np.array([0, 0, 0, 1, 1, 1])),  # every row, in order
        (np.array([4, 1, 2]), np.array([1, 0, 1])),  # some rows, unsorted
        (np.array([5]), np.array([0])),
    ],
)
def test_rows_receive_their_values(rows, param_of_row):
    column = np.linspace(-1.0, 1.0, 6)
    vals = np.array([10.0, 20.0, 30.0])
    got = _set_rows(jnp.asarray(column), rows, jnp.asarray(vals), param_of_row)
    np.testing.assert_array_equal(
        np.asarray(got), _numpy_reference(column, rows, vals, param_of_row)
    )


def test_gradient_sums_over_the_rows_of_each_value():
    """d sum(w * column) / d vals[k] = sum of w over the rows that vals[k] writes."""
    column = jnp.ones(6)
    weights = jnp.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    for rows, param_of_row in [
        (np.array([3, 1, 0, 2, 5, 4]), np.array([0, 0, 1, 1, 2, 2])),
        (np.array([4, 1, 2]), np.array([1, 0, 1])),
    ]:
        grad = jax.grad(
            lambda v, r=rows, p=param_of_row: jnp.sum(weights * _set_rows(column, r, v, p))
        )
        got = np.asarray(grad(jnp.zeros(3)))
        expected = np.bincount(param_of_row, weights=np.asarray(weights)[rows], minlength=3)
        np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_repeated_rows_take_one_of_their_values():
    column = jnp.zeros(4)
    rows, param_of_row = np.array([2, 0, 2]), np.array([0, 1, 2])
    got = np.asarray(_set_rows(column, rows, jnp.array([1.0, 2.0, 3.0]), param_of_row))
    assert got[0] == 2.0 and got[1] == 0.0 and got[3] == 0.0
    assert got[2] in (1.0, 3.0)
