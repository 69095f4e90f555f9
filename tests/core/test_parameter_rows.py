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


def _trainable(key, rows, param_of_row):
    from dendrax.simulator.model import Trainable

    rows, param_of_row = np.asarray(rows), np.asarray(param_of_row)
    return Trainable(key, "node", rows, param_of_row, int(param_of_row.max()) + 1)


def test_several_trainables_of_one_parameter_act_as_sequential_writes():
    """`apply_parameter_updates` merges the trainables of a parameter into one write (so the
    compiled code does not grow with their number); overlapping rows keep the last value."""
    from dendrax.simulator.params import apply_parameter_updates

    trainables = [
        _trainable("g", [0, 1, 2, 3], [0, 0, 1, 1]),
        _trainable("h", [5], [0]),
        _trainable("g", [2, 5], [0, 0]),
        _trainable("g", [3, 4], [1, 0]),
    ]
    params = [{"g": jnp.array([1.0, 2.0])}, {"h": jnp.array([7.0])}]
    params += [{"g": jnp.array(3.0)}, {"g": jnp.array([4.0, 5.0])}]
    column = np.linspace(-1.0, 1.0, 6)
    values = {"g": jnp.asarray(column), "h": jnp.zeros(6)}
    got = apply_parameter_updates(values, trainables, params, None, "node")
    expected = {"g": column.copy(), "h": np.zeros(6)}
    for t, entry in zip(trainables, params, strict=True):
        vals = np.reshape(np.asarray(entry[t.key]), -1)
        expected[t.key][t.rows] = vals[t.param_of_row]
    for key in expected:
        np.testing.assert_array_equal(np.asarray(got[key]), expected[key])

    # gradient: a value overwritten everywhere by a later trainable gets none
    def loss(first):
        p = [{"g": first}, *params[1:]]
        out = apply_parameter_updates(values, trainables, p, None, "node")["g"]
        return jnp.sum(jnp.arange(1.0, 7.0) * out)

    # rows 0, 1 keep value 0 of the first trainable; rows 2, 3 are written again later
    np.testing.assert_allclose(np.asarray(jax.grad(loss)(params[0]["g"])), [3.0, 0.0])
