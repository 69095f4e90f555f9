"""Shared references for the tree-solver tests: the dense matrix of a tree system, a
gradient check of a solver against finite differences of numpy's dense solve, and the
shared morphologies."""

import os
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax as jx

#: The shared test morphologies (`../shared/data/swc` beside the repository by default).
SWC_DIR = Path(
    os.environ.get("DENDRAX_SWC_DIR", Path(__file__).resolve().parents[3] / "shared/data/swc")
)


def shared_cell(name: str, ncomp: int = 4):
    """A cell read from the shared SWC file `name` (skips the test where it is absent)."""
    path = SWC_DIR / name
    if not path.is_file():
        pytest.skip(f"shared SWC file {path} is absent (set DENDRAX_SWC_DIR)")
    with warnings.catch_warnings():  # the L5PC file repeats points (a UserWarning says so)
        warnings.filterwarnings("ignore", message=".*lie at their parent's position")
        return jx.read_swc(str(path), ncomp=ncomp)


def dense_matrix(parent, diag, upper, lower):
    """(n, n) matrix of the tree system: `diag` on the diagonal, `upper[i]` at (i, parent[i])
    and `lower[i]` at (parent[i], i) for every non-root node i (`parent[i] >= 0`)."""
    matrix = np.diag(diag)
    children = np.flatnonzero(parent >= 0)
    matrix[children, parent[children]] = upper[children]
    matrix[parent[children], children] = lower[children]
    return matrix


def assert_gradients_match_dense(solve, parent, system, node):
    """Check `solve(diag, upper, lower, rhs)`'s reverse- and forward-mode gradients of a
    weighted `sin` loss against each other (1e-12) and, at `node`, against central
    finite differences of the dense solve (relative 1e-7), for all four inputs."""
    weights = np.linspace(-1.0, 1.0, parent.size)

    def loss(d, u, l, b):
        return jnp.sum(weights * jnp.sin(solve(d, u, l, b)))

    def loss_np(d, u, l, b):
        return np.sum(weights * np.sin(np.linalg.solve(dense_matrix(parent, d, u, l), b)))

    args = tuple(map(jnp.asarray, system))
    grads = jax.grad(loss, argnums=(0, 1, 2, 3))(*args)
    forward = jax.jacfwd(loss, argnums=(0, 1, 2, 3))(*args)
    for k in range(4):
        np.testing.assert_allclose(np.asarray(grads[k]), np.asarray(forward[k]), atol=1e-12)
        plus = [np.array(a, copy=True) for a in system]
        minus = [np.array(a, copy=True) for a in system]
        plus[k][node] += 1e-6
        minus[k][node] -= 1e-6
        fd = (loss_np(*plus) - loss_np(*minus)) / 2e-6
        assert abs(float(grads[k][node]) - fd) < 1e-7 * max(1.0, abs(fd))
