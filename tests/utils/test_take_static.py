"""`take_static`: x[rows] for static rows, through a slice, a broadcast or a gather."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dendrax.utils.jax_utils import take_static

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
