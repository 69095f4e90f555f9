"""Small HH cells shared by the training-workflow tests (kept tiny so compiles are fast)."""

import dendrax as jx
from dendrax.channels import HH

T_MAX, DT = 2.0, 0.025


def hh_cell(ncomp: int = 2, parents=(-1, 0, 0), init: bool = True):
    """A branched HH cell: len(parents) branches of `ncomp` compartments, Ra 300 Ω·cm."""
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp)
    cell = jx.Cell([branch] * len(parents), parents=list(parents))
    cell.set("axial_resistivity", 300.0)
    cell.insert(HH())
    if init:
        cell.init_states()
    return cell


def current(amp: float = 0.2, t_max: float = T_MAX, delay: float = 0.3, dur: float = 1.2):
    """A step current (nA) of `amp` from `delay` for `dur` ms, sampled at DT."""
    return jx.step_current(delay, dur, amp, DT, t_max)


def stimulated_cell(**kwargs):
    """`hh_cell` with a step current into branch 0, comp 0, recording v in two places."""
    cell = hh_cell(**kwargs)
    cell.branch(0).comp(0).stimulate(current(), verbose=False)
    cell.branch(0).comp(0).record(verbose=False)
    cell.branch(2).comp(1).record(verbose=False)
    return cell
