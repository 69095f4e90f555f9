"""Network.vis: synapse lines join the right places (checked through known translations)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dendrax as jx  # noqa: E402
from dendrax.synapses import IonotropicSynapse  # noqa: E402

OFFSETS = np.array([[0.0, 0.0, 0.0], [100.0, 40.0, 0.0], [-60.0, 200.0, 0.0]])


def _network():
    """Three identical one-compartment cells moved to OFFSETS; synapses 0 -> 1 and 0 -> 2."""
    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), parents=[-1])
    net = jx.Network([cell] * 3)
    net.compute_xyz()
    net.move_to(x=OFFSETS[:, 0], y=OFFSETS[:, 1], z=OFFSETS[:, 2])
    jx.connect(net.cell(0), net.cell(1), IonotropicSynapse())
    jx.connect(net.cell(0), net.cell(2), IonotropicSynapse())
    return net


def _segments(ax, color):
    """(start, end) of every drawn segment in `color`; one line may hold several segments
    separated by NaN."""
    out = []
    for line in ax.lines:
        if matplotlib.colors.same_color(line.get_color(), color):
            xy = np.stack(line.get_data(), axis=1).astype(float)
            pieces = np.split(xy, np.flatnonzero(np.isnan(xy[:, 0])))
            for piece in pieces:
                piece = piece[~np.isnan(piece[:, 0])]
                if len(piece):
                    out.append(np.array([piece[0], piece[-1]]))
    return out


@pytest.mark.parametrize("detail", ["full", "point"])
def test_synapse_lines_join_the_connected_cells(detail):
    net = _network()
    ax = net.vis(detail=detail, synapse_color="b", color="k")
    segments = _segments(ax, "b")
    assert len(segments) == 2
    # identical cells: every synapse line is the translation between the two cells
    for seg, post in zip(segments, (1, 2), strict=True):
        np.testing.assert_allclose(seg[1] - seg[0], OFFSETS[post, :2] - OFFSETS[0, :2], atol=1e-9)
    # the markers sit at the postsynaptic ends
    markers = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(markers), [s[1] for s in segments], atol=1e-9)
    if detail == "full":  # plus the three cells' morphologies in the cell color
        assert len(_segments(ax, "k")) == 3
    plt.close("all")


def test_bad_detail_is_rejected():
    with pytest.raises(ValueError, match="detail"):
        _network().vis(detail="cells")
