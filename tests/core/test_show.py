"""`Module.show(param_names=None, *, indices=True, params=True, states=True,
channel_names=None)`: the columns follow the flags (regression, issue 20: they were ignored
and every column of the node table was returned)."""

import numpy as np
import pytest

import dendrax as jx
from dendrax.channels import HH, Leak

INDICES = [
    "local_comp_index",
    "global_comp_index",
    "local_branch_index",
    "global_branch_index",
    "local_cell_index",
    "global_cell_index",
]
GEOMETRY = ["length", "radius", "axial_resistivity", "capacitance"]
HH_PARAMS = ["HH_gNa", "HH_gK", "HH_gLeak", "HH_eNa", "HH_eK", "HH_eLeak"]
LEAK_PARAMS = ["Leak_gLeak", "Leak_eLeak"]
HH_STATES = ["HH_m", "HH_h", "HH_n"]


@pytest.fixture
def cell():
    """HH in branch 0 only, Leak everywhere; 3 branches of 2 compartments."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), parents=[-1, 0, 0])
    cell.branch(0).insert(HH())
    cell.insert(Leak())
    return cell


def test_default_shows_indices_params_and_states(cell):
    df = cell.show()
    assert list(df.columns) == INDICES + GEOMETRY + HH_PARAMS + LEAK_PARAMS + ["v"] + HH_STATES
    assert len(df) == 6
    np.testing.assert_array_equal(df["HH_gNa"].to_numpy()[:2], [0.12, 0.12])
    assert np.isnan(df["HH_gNa"].to_numpy()[2:]).all()


@pytest.mark.parametrize(
    ("flags", "columns"),
    [
        ({"params": False}, INDICES + ["v"] + HH_STATES),
        ({"states": False}, INDICES + GEOMETRY + HH_PARAMS + LEAK_PARAMS),
        ({"params": False, "states": False}, INDICES),
        ({"indices": False, "states": False}, GEOMETRY + HH_PARAMS + LEAK_PARAMS),
        ({"indices": False, "params": False, "states": False}, []),
    ],
)
def test_flags_select_the_columns(cell, flags, columns):
    df = cell.show(**flags)
    assert list(df.columns) == columns
    assert len(df) == 6  # rows are the compartments in view, whatever the columns


def test_param_names_pick_columns_whatever_the_flags(cell):
    assert list(cell.show("HH_gNa").columns) == INDICES + ["HH_gNa"]
    df = cell.show(["HH_m", "Leak_gLeak", "area"], indices=False, params=False)
    assert list(df.columns) == ["HH_m", "Leak_gLeak", "area"]
    np.testing.assert_allclose(df["area"], 2 * np.pi * 1.0 * 10.0)


def test_channel_names_add_membership_columns(cell):
    df = cell.show(channel_names=["HH"], params=False, states=False)
    assert list(df.columns) == INDICES + ["HH"]
    assert df["HH"].tolist() == [True, True, False, False, False, False]


def test_a_view_shows_only_the_channels_in_view(cell):
    df = cell.branch(1).show(indices=False)
    assert list(df.columns) == GEOMETRY + LEAK_PARAMS + ["v"]
    assert len(df) == 2


def test_show_returns_a_copy(cell):
    df = cell.show()
    df["HH_gNa"] = 0.0
    assert cell.nodes["HH_gNa"].to_numpy()[0] == 0.12


def test_unknown_names_raise_with_the_valid_ones(cell):
    with pytest.raises(KeyError, match=r"Unknown node column 'HH_gna'\. Did you mean 'HH_gNa'"):
        cell.show("HH_gna")
    with pytest.raises(KeyError, match=r"Unknown channel 'Na'\. .*Valid names: HH, Leak"):
        cell.show(channel_names=["Na"])
    with pytest.raises(TypeError, match="param_names must be a name or a list of names"):
        cell.show(param_names=3)
