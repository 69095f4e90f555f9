"""8 Hay et al. (2011) L5PC channels imported with `read_mod` vs NEURON running the same
`.mod` files compiled with `nrnivmodl` (files extracted from the bluepyemodel wheel at test
time, see `hay_model.py`; skipped when no wheel is available)."""

import numpy as np
import pytest

pytest.importorskip("neuron")

import dendrax as jx  # noqa: E402

from .hay_model import (  # noqa: E402
    compile_mechanisms,
    dendrax_compartment,
    find_mod_files,
    run_neuron,
)

DT = 0.025
T_MAX = 100.0


@pytest.fixture(scope="module")
def mod_files(tmp_path_factory):
    files = find_mod_files(tmp_path_factory.mktemp("hay_mod"))
    if files is None:
        pytest.skip(
            "Hay 2011 .mod files not available: put the bluepyemodel wheel in "
            "$DENDRAX_TEST_WHEELS (pip download --no-deps bluepyemodel==1.0.50)"
        )
    return files


def test_hay_channels_match_neuron(mod_files, tmp_path):
    try:
        lib = compile_mechanisms(mod_files, tmp_path / "nrn")
    except Exception as err:  # noqa: BLE001 - no compiler, nrnivmodl failure, ...
        pytest.skip(f"nrnivmodl could not compile the .mod files: {err}")
    v_neuron = np.asarray(run_neuron(lib, T_MAX, DT)["v"])
    comp = dendrax_compartment(mod_files, T_MAX, DT)
    v_dx = np.asarray(jx.integrate(comp, t_max=T_MAX, delta_t=DT))[0]
    n = min(v_dx.size, v_neuron.size)
    assert abs(v_dx.size - v_neuron.size) <= 1
    assert v_neuron.max() > 0.0  # it spikes
    print(f"mean |dV| = {np.mean(np.abs(v_dx[:n] - v_neuron[:n])):.2e} mV")
    assert np.mean(np.abs(v_dx[:n] - v_neuron[:n])) < 0.05
