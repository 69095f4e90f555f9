"""Rung 4 (optional, `make compat`): identical traces to Jaxley in float64.

Skipped unless the `jaxley` package is importable (it is installed by `make compat` into a
separate environment).
"""

import numpy as np
import pytest

jaxley = pytest.importorskip("jaxley")

import dendrax  # noqa: E402


def _build(lib, hh_cls, kind):
    comp = lib.Compartment()
    if kind == "comp":
        module = comp
    elif kind == "branch":
        module = lib.Branch(comp, ncomp=4)
    else:
        module = lib.Cell(lib.Branch(comp, ncomp=3), parents=[-1, 0, 0, 1, 1])
    module.insert(hh_cls())
    if kind == "cell":
        module.branch(1).set("radius", 0.5)
        module.set("axial_resistivity", 300.0)
    if kind == "comp":
        target, second = module, None
    elif kind == "branch":
        target, second = module.comp(0), module.comp(3)
    else:
        target, second = module.branch(0).comp(0), module.branch(4).comp(2)
    target.stimulate(lib.step_current(0.5, 3.0, 0.1, 0.025, 10.0), verbose=False)
    target.record("v", verbose=False)
    if second is not None:
        second.record("v", verbose=False)
    return module


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson"])
@pytest.mark.parametrize("kind", ["comp", "branch", "cell"])
def test_identical_to_jaxley(kind, solver):
    from jaxley.channels import HH as JaxleyHH

    from dendrax.channels import HH

    ours = np.asarray(dendrax.integrate(_build(dendrax, HH, kind), t_max=10.0, solver=solver))
    theirs = np.asarray(jaxley.integrate(_build(jaxley, JaxleyHH, kind), t_max=10.0, solver=solver))
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-8


def _swc_path():
    import os
    from pathlib import Path

    folder = Path(
        os.environ.get(
            "DENDRAX_SWC_DIR", Path(__file__).parents[2] / ".." / "shared" / "data" / "swc"
        )
    )
    path = folder / "morph_ca1_n120.swc"
    if not path.exists():
        pytest.skip(f"{path} is absent (set DENDRAX_SWC_DIR)")
    return str(path)


def _swc_cell(lib, hh_cls, path):
    cell = lib.read_swc(path, ncomp=2)
    cell.insert(hh_cls())
    cell.branch(0).comp(0).stimulate(lib.step_current(0.5, 3.0, 0.3, 0.025, 5.0), verbose=False)
    for b in (0, 40, 120):
        cell.branch(b).comp(1).record("v", verbose=False)
    return cell


def test_swc_cell_identical_to_jaxley():
    from jaxley.channels import HH as JaxleyHH

    from dendrax.channels import HH

    path = _swc_path()
    ours = np.asarray(dendrax.integrate(_swc_cell(dendrax, HH, path), t_max=5.0))
    theirs = np.asarray(jaxley.integrate(_swc_cell(jaxley, JaxleyHH, path), t_max=5.0))
    assert np.abs(ours - theirs).max() < 1e-8


def _network(lib, hh_cls, synapse_cls):
    cell = lib.Cell(lib.Branch(lib.Compartment(), ncomp=2), parents=[-1, 0])
    net = lib.Network([cell, cell, cell])
    net.insert(hh_cls())
    lib.connect(net.cell(0).branch(0).comp(0), net.cell(1).branch(1).comp(1), synapse_cls())
    lib.connect(net.cell(1).branch(0).comp(0), net.cell(2).branch(0).comp(1), synapse_cls())
    net.cell(0).branch(0).comp(0).stimulate(
        lib.step_current(0.5, 3.0, 0.2, 0.025, 10.0), verbose=False
    )
    for c in range(3):
        net.cell(c).branch(1).comp(1).record("v", verbose=False)
    return net


def test_ionotropic_network_identical_to_jaxley():
    from jaxley.channels import HH as JaxleyHH
    from jaxley.synapses import IonotropicSynapse as JaxleySyn

    from dendrax.channels import HH
    from dendrax.synapses import IonotropicSynapse

    ours = np.asarray(dendrax.integrate(_network(dendrax, HH, IonotropicSynapse), t_max=10.0))
    theirs = np.asarray(jaxley.integrate(_network(jaxley, JaxleyHH, JaxleySyn), t_max=10.0))
    assert np.abs(ours - theirs).max() < 1e-8
