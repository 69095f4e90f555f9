"""Current-clamp sweeps from NWB files (Allen Cell Types, DANDI) as simulation inputs.

Needs ``pynwb`` (``pip install 'dendrax[nwb]'``). A sweep is a recorded response (a
``CurrentClampSeries`` in the file's acquisition) and the current injected during it (a
``CurrentClampStimulusSeries`` in its stimulus group), paired by ``sweep_number``. The
reader converts both to dendrax's units (NWB stores SI: volts and amperes, scaled by each
series' ``conversion`` and ``offset``) and to a fixed time step, ready for::

    sweep = read_current_clamp("cell.nwb", sweep=5, delta_t=0.025, t_stop=1200.0)
    cell.branch(0).comp(0).data_stimulate(sweep.stimulus)   # nA, one value per step
    v = jx.integrate(cell, delta_t=sweep.delta_t, t_max=sweep.t_max)
    loss = jnp.mean((v[0] - sweep.voltage) ** 2)              # mV, same length as v[0]

Units: ms, mV, nA.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CurrentClampSweep", "NWBError", "list_sweeps", "read_current_clamp"]

#: Factors from a series' unit to mV (responses) and nA (stimuli).
VOLTAGE_UNITS = {"volts": 1e3, "volt": 1e3, "v": 1e3, "millivolts": 1.0, "mv": 1.0}
CURRENT_UNITS = {
    "amperes": 1e9,
    "ampere": 1e9,
    "amps": 1e9,
    "a": 1e9,
    "nanoamperes": 1.0,
    "na": 1.0,
    "picoamperes": 1e-3,
    "pa": 1e-3,
}


class NWBError(ValueError):
    """An NWB file, or a sweep in it, that cannot be used as a current-clamp sweep."""


@dataclass(frozen=True)
class CurrentClampSweep:
    """One current-clamp sweep on a uniform time grid.

    Attributes:
        name: name of the response series in the file.
        sweep_number: the sweep's number (``None`` if the file gives none).
        delta_t: time step (ms).
        stimulus: injected current (nA), shape ``(n_steps,)``; sample ``k`` is at ``k * delta_t``.
        voltage: recorded membrane potential (mV), shape ``(n_steps,)``.
        t_start: time of sample 0 relative to the series' start (ms).
    """

    name: str
    sweep_number: int | None
    delta_t: float
    stimulus: np.ndarray
    voltage: np.ndarray
    t_start: float = 0.0

    @property
    def t(self) -> np.ndarray:
        """Sample times (ms) from 0, shape ``(n_steps,)``."""
        return np.arange(self.voltage.size) * self.delta_t

    @property
    def t_max(self) -> float:
        """Duration (ms) for ``integrate(t_max=...)``: it then returns ``n_steps`` samples."""
        return (self.voltage.size - 1) * self.delta_t


def _import_pynwb():
    try:
        import pynwb
    except ImportError as err:
        raise ImportError("reading NWB files needs pynwb: pip install 'dendrax[nwb]'") from err
    return pynwb


def _open(path: str | Path):
    pynwb = _import_pynwb()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such NWB file")
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r", load_namespaces=True)
        with warnings.catch_warnings():
            # pynwb's note that it overrides a stored unit: _stored_unit reads the real one.
            warnings.filterwarnings("ignore", message="Unit .* is ignored", category=UserWarning)
            return io, io.read()
    except Exception as err:  # h5py/hdmf raise many kinds for a file that is not NWB
        raise NWBError(f"{path}: not a readable NWB file ({type(err).__name__}: {err})") from err


def _responses(nwbfile, path: Path) -> dict[str, object]:
    from pynwb.icephys import CurrentClampSeries

    out = {
        name: series
        for name, series in nwbfile.acquisition.items()
        if isinstance(series, CurrentClampSeries)
    }
    if not out:
        kinds = sorted({type(s).__name__ for s in nwbfile.acquisition.values()}) or ["nothing"]
        raise NWBError(
            f"{path}: no current-clamp sweeps (CurrentClampSeries) in acquisition; "
            f"it holds {', '.join(kinds)}"
        )
    return out


def _number(series) -> int | None:
    return None if series.sweep_number is None else int(series.sweep_number)


def list_sweeps(path: str | Path) -> list[tuple[str, int | None]]:
    """``(name, sweep_number)`` of every current-clamp response in the file, in file order."""
    io, nwbfile = _open(path)
    try:
        return [(n, _number(s)) for n, s in _responses(nwbfile, Path(path)).items()]
    finally:
        io.close()


def _stored_unit(series) -> str:
    """The unit written in the file. pynwb replaces a current-clamp series' unit by the
    NWB 2.1 one (volts / amperes) with only a warning, which would scale data stored in
    mV or pA by 1000; the dataset's own attribute is what the file says."""
    attrs = getattr(series.data, "attrs", None)
    if attrs is not None and "unit" in attrs:
        unit = attrs["unit"]
        return unit.decode() if isinstance(unit, bytes) else str(unit)
    return str(series.unit)


def _scaled(series, table: dict[str, float], what: str, path: Path) -> np.ndarray:
    stored = _stored_unit(series)
    unit = stored.strip().lower()
    if unit not in table:
        known = ", ".join(sorted({u for u in table if len(u) > 2}))
        raise NWBError(
            f"{path}: {what} series {series.name!r} has unit {stored!r}; "
            f"expected one of {known} (or their symbols)"
        )
    data = np.asarray(series.data[:], dtype=np.float64)
    if data.ndim != 1:
        raise NWBError(f"{path}: {what} series {series.name!r} has shape {data.shape}; need 1-D")
    offset = float(getattr(series, "offset", 0.0) or 0.0)
    values = (data * float(series.conversion) + offset) * table[unit]
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise NWBError(f"{path}: {what} series {series.name!r} has a non-finite sample at {bad}")
    return values


def _sample_step_ms(series, path: Path) -> float:
    if series.rate is not None:
        return 1e3 / float(series.rate)
    stamps = np.asarray(series.timestamps[:], dtype=np.float64)
    steps = np.diff(stamps)
    if stamps.size < 2 or not np.allclose(steps, steps[0], rtol=1e-6):
        raise NWBError(f"{path}: series {series.name!r} is not sampled at a uniform rate")
    return 1e3 * float(steps[0])


def _find_stimulus(nwbfile, response, path: Path):
    from pynwb.icephys import CurrentClampStimulusSeries

    candidates = [s for s in nwbfile.stimulus.values() if isinstance(s, CurrentClampStimulusSeries)]
    if response.sweep_number is not None:
        same = [s for s in candidates if s.sweep_number == response.sweep_number]
        if len(same) == 1:
            return same[0]
    raise NWBError(
        f"{path}: no CurrentClampStimulusSeries with sweep_number {response.sweep_number} "
        f"for response {response.name!r}; the injected current is needed to simulate it"
    )


def _resample(values: np.ndarray, src_dt: float, dst_dt: float, hold: bool) -> np.ndarray:
    n = int(np.floor((values.size - 1) * src_dt / dst_dt + 1e-9)) + 1
    t = np.arange(n) * dst_dt
    if hold:  # a command current is piecewise constant: keep the value of the last sample
        idx = np.minimum(np.floor(t / src_dt + 1e-9).astype(np.int64), values.size - 1)
        return values[idx]
    return np.interp(t, np.arange(values.size) * src_dt, values)


def read_current_clamp(
    path: str | Path,
    sweep: int | str,
    delta_t: float | None = None,
    t_start: float = 0.0,
    t_stop: float | None = None,
) -> CurrentClampSweep:
    """Read one current-clamp sweep, in mV and nA, on a grid of step ``delta_t``.

    Args:
        path: NWB file.
        sweep: the sweep's ``sweep_number`` (int) or its response series' name (str).
        delta_t: time step (ms) to resample to; default: the file's sampling step.
            The stimulus is held between samples (it is a command), the voltage is
            interpolated linearly.
        t_start: start of the window to keep (ms from the series' start).
        t_stop: end of the window (ms); None keeps to the end.

    Raises:
        FileNotFoundError: no such file.
        ImportError: pynwb is not installed.
        NWBError: no sweeps, unknown sweep, units not convertible to mV / nA, missing
            stimulus, non-uniform sampling, bad window.
    """
    path = Path(path)
    io, nwbfile = _open(path)
    try:
        responses = _responses(nwbfile, path)
        if isinstance(sweep, str):
            if sweep not in responses:
                raise NWBError(f"{path}: no sweep named {sweep!r}; sweeps: {', '.join(responses)}")
            response = responses[sweep]
        elif isinstance(sweep, int | np.integer):
            found = [s for s in responses.values() if _number(s) == sweep]
            if not found:
                numbers = sorted(_number(s) for s in responses.values() if _number(s) is not None)
                raise NWBError(f"{path}: no sweep number {sweep}; sweep numbers: {numbers}")
            response = found[0]
        else:
            raise TypeError(f"sweep must be a sweep number (int) or a name (str), got {sweep!r}")
        stimulus_series = _find_stimulus(nwbfile, response, path)
        voltage = _scaled(response, VOLTAGE_UNITS, "response", path)
        current = _scaled(stimulus_series, CURRENT_UNITS, "stimulus", path)
        dt_v = _sample_step_ms(response, path)
        dt_i = _sample_step_ms(stimulus_series, path)
    finally:
        io.close()
    if not np.isclose(dt_v, dt_i, rtol=1e-6):
        raise NWBError(
            f"{path}: sweep {response.name!r}: response sampled every {dt_v} ms, "
            f"stimulus every {dt_i} ms; they must match"
        )
    n = min(voltage.size, current.size)
    voltage, current = voltage[:n], current[:n]
    duration = (n - 1) * dt_v
    stop = duration if t_stop is None else float(t_stop)
    if not 0.0 <= t_start < stop <= duration + 1e-9:
        raise NWBError(
            f"{path}: window t_start={t_start}, t_stop={t_stop} ms is outside the sweep "
            f"(0 to {duration:g} ms) or empty"
        )
    first = int(round(t_start / dt_v))
    last = int(round(stop / dt_v))
    voltage, current = voltage[first : last + 1], current[first : last + 1]
    step = dt_v
    if delta_t is not None:
        if not (isinstance(delta_t, int | float) and np.isfinite(delta_t) and delta_t > 0):
            raise ValueError(f"delta_t must be a positive number of ms, got {delta_t!r}")
        voltage = _resample(voltage, dt_v, float(delta_t), hold=False)
        current = _resample(current, dt_v, float(delta_t), hold=True)
        step = float(delta_t)
    return CurrentClampSweep(
        name=response.name,
        sweep_number=_number(response),
        delta_t=step,
        stimulus=current,
        voltage=voltage,
        t_start=first * dt_v,
    )
