"""`take_static` (x[rows] at static rows: slice, broadcast or gather), `scatter_add_static`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.utils.jax_utils import scatter_add_static, take_static

jax.config.update("jax_enable_x64", True)

ROWS = {
    "contiguous": np.arange(1, 6),
    "repeated in order": np.repeat(np.arange(7), 4),
    "arbitrary": np.array([5, 0, 0, 6, 2, 2, 2, 1]),
}


@pytest.mark.parametrize("kind", list(ROWS))
def test_values_and_transpose_match_numpy(kind):
    rows = ROWS[kind]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 2))
    np.testing.assert_array_equal(np.asarray(take_static(jnp.asarray(x), rows)), x[rows])
    # reverse mode: the cotangent of x sums the cotangents of the rows that read it
    ct = rng.normal(size=(rows.size, 2))
    _, vjp = jax.vjp(lambda a: take_static(a, rows), jnp.asarray(x))
    expected = np.zeros_like(x)
    np.add.at(expected, rows, ct)
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(ct))[0]), expected, rtol=1e-15)


def test_no_negative_index_fixup_is_staged():
    jaxpr = jax.make_jaxpr(lambda a: take_static(a, ROWS["arbitrary"]))(jnp.ones(7))
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert "gather" in names and "select_n" not in names


@pytest.mark.parametrize("bad", [-1, 4])
def test_rows_out_of_range_are_rejected(bad):
    with pytest.raises(ValueError, match=r"rows in \[0, 4\)"):
        take_static(jnp.ones(4), np.array([1, bad]))


def test_scatter_add_static_matches_jnp_and_checks_rows():
    rows = np.array([3, 0, 3, 5, 1])
    values = np.arange(1.0, 6.0)
    got = scatter_add_static(jnp.zeros(6), rows, jnp.asarray(values))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(jnp.zeros(6).at[rows].add(values)))
    block = np.arange(10.0).reshape(5, 2)  # trailing axes ride along
    got2 = scatter_add_static(jnp.ones((6, 2)), rows, jnp.asarray(block))
    np.testing.assert_array_equal(
        np.asarray(got2), np.asarray(jnp.ones((6, 2)).at[rows].add(block))
    )
    grad = jax.grad(lambda v: jnp.sum(scatter_add_static(jnp.zeros(6), rows, v) ** 2))(values)
    np.testing.assert_allclose(np.asarray(grad), 2 * np.asarray(got)[rows])
    with pytest.raises(ValueError, match="rows in"):
        scatter_add_static(jnp.zeros(6), np.array([0, 6]), jnp.ones(2))
