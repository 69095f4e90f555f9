"""`module._init_solver_jaxley_dhs_solve(allowed_nodes_per_level)`: Jaxley's set-up call
for `voltage_solver="jaxley.dhs.gpu"` (its suite and user scripts call it before
`integrate`). The block width does not change the solution; dendrax accepts the call,
checks its argument and solves with the level-parallel solver."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH


def _cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=3), parents=[-1, 0, 0, 1, 1])
    cell.insert(HH())
    cell.branch(2).comp(1).stimulate(jx.step_current(0.5, 1.0, 0.2, 0.025, 5.0), verbose=False)
    cell.branch(4).comp(2).record(verbose=False)
    return cell


def test_dhs_gpu_after_hook_matches_an_independent_sparse_solve():
    cell = _cell()
    cell._init_solver_jaxley_dhs_solve(allowed_nodes_per_level=2)
    gpu = np.asarray(jx.integrate(cell, voltage_solver="jaxley.dhs.gpu"))
    # jax.sparse: a general sparse LU solve of the same linear systems (no tree ordering).
    sparse = np.asarray(jx.integrate(_cell(), voltage_solver="jax.sparse"))
    assert gpu.shape == sparse.shape == (1, 202)
    np.testing.assert_allclose(gpu, sparse, atol=1e-9, rtol=0)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_hook_rejects_a_bad_block_width(bad):
    with pytest.raises(ValueError, match="allowed_nodes_per_level must be a positive integer"):
        _cell()._init_solver_jaxley_dhs_solve(allowed_nodes_per_level=bad)
