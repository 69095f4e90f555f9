"""The feed-forward regression example reduces its loss 10x and writes its figure."""

import numpy as np

from ._example import load


def test_ff_loss_falls_tenfold_and_main_writes_png(tmp_path, capsys):
    ex = load()
    res = ex.train("ff")  # default epochs
    assert res["losses"][-1] < res["losses"][0] / 10
    assert res["output"].shape == (ex.T, ex.N_OUT)
    ex.plot({"ff": res}, str(tmp_path / "fig.png"))
    assert (tmp_path / "fig.png").stat().st_size > 1000
    assert np.all(np.isfinite(res["losses"]))
