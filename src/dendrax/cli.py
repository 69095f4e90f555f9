"""The ``dendrax`` command: environment report, SWC inspection and NMODL import checks.

Subcommands (each has ``--help``)::

    dendrax info                 versions, JAX backend and devices, x64, optional parts
    dendrax swc FILE [--ncomp N] [--plot OUT.png]
    dendrax nmodl FILE.mod [--celsius C]

Exit codes: 0 success, 1 the input file is invalid (the message names file and line or
block), 2 bad command-line usage (argparse's convention), 3 an optional dependency the
subcommand needs is not installed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_MISSING_DEPENDENCY = 0, 1, 2, 3

#: Optional parts: (extra name, import name, what it enables).
OPTIONAL_PARTS = (
    ("plot", "matplotlib", "morphology and trace plots"),
    ("train", "optax", "dendrax.training and dendrax.optimize helpers"),
    ("graph", "networkx", "graph import/export (to_graph, from_graph)"),
    ("morph", "morphio", "ASC/H5 morphologies via read_morphology"),
    ("nmodl", "neuron", "NMODL import (read_mod) and NEURON comparisons"),
    ("nwb", "pynwb", "current-clamp sweeps from NWB files (dendrax.io.nwb)"),
)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cmd_info(args: argparse.Namespace) -> int:
    import jax

    import dendrax

    print(f"dendrax {dendrax.__version__}  (Python {sys.version.split()[0]})")
    print(f"jax {jax.__version__}, jaxlib {_version('jaxlib') or '?'}, numpy {_version('numpy')}")
    print(f"backend: {jax.default_backend()}")
    for device in jax.devices():
        print(f"  device {device.id}: {device.platform} {device.device_kind}")
    x64 = bool(jax.config.read("jax_enable_x64"))
    print(f"float64 (jax_enable_x64): {'on' if x64 else 'off'}")
    print("optional parts:")
    for extra, module, purpose in OPTIONAL_PARTS:
        version = _version(module)
        found = importlib.util.find_spec(module) is not None
        state = f"installed ({version})" if found else f"missing: pip install 'dendrax[{extra}]'"
        print(f"  {extra:<6} {module:<11} {state:<34} {purpose}")
    return EXIT_OK


def _swc_summary(cell, ncomp: int) -> list[str]:
    """Lines describing a cell read from SWC: branches, compartments, per-group sums."""
    nodes = cell.nodes
    lines = [
        f"branches: {nodes['global_branch_index'].nunique()}",
        f"compartments (ncomp={ncomp}): {len(nodes)}",
        f"total length: {nodes['length'].sum():.1f} um, total area: {nodes['area'].sum():.1f} um^2",
    ]
    names = list(cell.group_names)
    if names:
        lines.append(f"{'group':<12} {'comps':>6} {'length/um':>11} {'area/um^2':>11}")
        for name in names:
            rows = nodes[nodes[name].astype(bool)]
            length, area = rows["length"].sum(), rows["area"].sum()
            lines.append(f"{name:<12} {len(rows):>6} {length:>11.1f} {area:>11.1f}")
    return lines


def _no_such_file(path: Path) -> int:
    print(f"error: {path}: no such file", file=sys.stderr)
    return EXIT_INVALID


def cmd_swc(args: argparse.Namespace) -> int:
    from dendrax.io.swc import SWCError, read_swc

    path = Path(args.file)
    if not path.is_file():
        return _no_such_file(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cell = read_swc(path, ncomp=args.ncomp)
        except (SWCError, ValueError, UnicodeDecodeError) as err:
            print(f"error: {path}: invalid SWC: {err}", file=sys.stderr)
            return EXIT_INVALID
    print(f"{path}: valid SWC")
    for line in _swc_summary(cell, args.ncomp):
        print(line)
    for w in caught:
        print(f"warning: {w.message}")
    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'dendrax[plot]'", file=sys.stderr)
            return EXIT_MISSING_DEPENDENCY
        fig, ax = plt.subplots(figsize=(5, 5))
        cell.vis(ax=ax)
        ax.set_aspect("equal")
        ax.set_xlabel("x (um)")
        ax.set_ylabel("y (um)")
        ax.set_title(path.name)
        fig.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return EXIT_OK


def cmd_nmodl(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _no_such_file(path)
    try:
        from dendrax.io.nmodl import read_mod
    except ImportError as err:
        print(
            f"error: NMODL import needs NEURON: pip install 'dendrax[nmodl]' ({err})",
            file=sys.stderr,
        )
        return EXIT_MISSING_DEPENDENCY
    try:
        cls = read_mod(path, celsius=args.celsius)
    except ModuleNotFoundError as err:
        print(
            f"error: NMODL import needs NEURON's parser: pip install 'dendrax[nmodl]' ({err})",
            file=sys.stderr,
        )
        return EXIT_MISSING_DEPENDENCY
    except (NotImplementedError, ValueError, OSError) as err:  # NmodlError is a ValueError
        print(f"error: {path} does not import: {err}", file=sys.stderr)
        return EXIT_INVALID
    info = cls.__nmodl_info__
    print(f"{path}: imports as channel {cls.__name__!r} (SUFFIX {info['suffix']})")
    params = info["parameters"]
    print(f"parameters ({len(params)}):")
    for name, value in params.items():
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass  # an expression: shown as written in the file
        print(f"  {name} = {value}")
    print(f"states ({len(info['states'])}): {', '.join(info['states']) or '-'}")
    reads = ", ".join(sorted(info["ion_reads"])) or "-"
    writes = ", ".join(sorted(info["ion_currents"])) or "-"
    print(f"ions read: {reads}; ion currents written: {writes}")
    nonspecific = ", ".join(info["nonspecific_currents"]) or "-"
    print(f"nonspecific currents: {nonspecific}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dendrax",
        description="dendrax: differentiable simulation of biophysical neurons on JAX.",
        epilog="Exit codes: 0 ok, 1 invalid input file, 2 usage error, "
        "3 missing optional dependency.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    info = sub.add_parser("info", help="versions, JAX backend and devices, optional parts")
    info.set_defaults(func=cmd_info)

    swc = sub.add_parser("swc", help="validate an SWC file and summarise its morphology")
    swc.add_argument("file", help="SWC file (coordinates and radii in um)")
    swc.add_argument("--ncomp", type=int, default=1, help="compartments per branch (default 1)")
    swc.add_argument("--plot", metavar="OUT.png", help="draw the morphology into this image")
    swc.set_defaults(func=cmd_swc)

    nmodl = sub.add_parser("nmodl", help="check that a .mod file imports; list its contents")
    nmodl.add_argument("file", help="NMODL (.mod) file")
    nmodl.add_argument(
        "--celsius",
        type=float,
        default=None,
        help="temperature default in degC (NEURON's 6.3 if not given)",
    )
    nmodl.set_defaults(func=cmd_nmodl)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dendrax`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "ncomp", 1) < 1:
        print("error: --ncomp must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
