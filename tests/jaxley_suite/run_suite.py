"""Run Jaxley 0.14.0's published test suite against dendrax.

Jaxley's sdist (which ships its ``tests/``) and the newest jaxley-mech wheel are
downloaded, without dependencies, from the package index into a git-ignored build
folder that is made anew on every run. Only the module name is rewritten: every NAME
token ``jaxley`` becomes ``dendrax`` (Python's tokenizer, so strings such as
``voltage_solver="jaxley.dhs"`` are left as they are). Nothing of Jaxley's is kept in
the repository.

The SWC fixtures the suite expects in ``tests/swc_files/`` are linked from the shared
data folder (``DENDRAX_SWC_DIR``, default ``../shared/data/swc``); tests whose file is
not there are skipped with a reason (see ``plugin.py``). Any real ``import jaxley`` is
blocked, so a test can only ever exercise dendrax.

Usage::

    python tests/jaxley_suite/run_suite.py [--build DIR] [--workers N] [-- PYTEST_ARGS]

Prints ``jaxley-suite: P passed, F failed, S skipped, L listed of N`` and exits non-zero
when a test fails that neither ``known_differences.toml`` (accepted differences) nor
``pending.toml`` (fixes still to make, counted among the failed) lists.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tokenize
import zipfile
from pathlib import Path

# Run as a script, this file's folder is on sys.path.
from suite_report import summarize

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
JAXLEY_VERSION = "0.14.0"


def rewrite_module_name(source: str, old: str = "jaxley", new: str = "dendrax") -> str:
    """Replace the NAME token ``old`` by ``new`` everywhere in ``source``.

    Strings, comments and longer names (``jaxley_mech``) are left untouched. Token
    positions are preserved, so line numbers in tracebacks still match the original.
    """
    lines = source.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int]]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string == old:
            (row, col), _ = tok.start, tok.end
            edits.setdefault(row - 1, []).append(col)
    for row, cols in edits.items():
        line = lines[row]
        for col in sorted(cols, reverse=True):
            line = line[:col] + new + line[col + len(old) :]
        lines[row] = line
    return "".join(lines)


def _rewrite_tree(root: Path) -> int:
    count = 0
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = rewrite_module_name(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            count += 1
    return count


def _download(build: Path) -> tuple[Path, Path]:
    dist = build / "dist"
    dist.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(dist)]
    subprocess.run(pip + ["--no-binary", ":all:", f"jaxley=={JAXLEY_VERSION}"], check=True)
    subprocess.run(pip + ["--only-binary", ":all:", "jaxley-mech"], check=True)
    sdist = next(dist.glob("[jJ]axley-*.tar.gz"))
    wheel = next(dist.glob("jaxley_mech-*.whl"))
    return sdist, wheel


def prepare(build: Path, swc_dir: Path) -> Path:
    """Download, unpack and rewrite the suite into ``build``; return the suite root."""
    if build.exists():
        shutil.rmtree(build)
    sdist, wheel = _download(build)
    with tarfile.open(sdist) as tar:
        tar.extractall(build, filter="data")
    root = next(p for p in build.iterdir() if p.is_dir() and p.name.lower().startswith("jaxley-"))
    # Jaxley's own package must not be importable: only its tests are kept.
    shutil.rmtree(root / "jaxley", ignore_errors=True)
    site = build / "site"
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith("jaxley_mech/"):
                zf.extract(name, site)
    _rewrite_tree(root / "tests")
    _rewrite_tree(site / "jaxley_mech")
    fixtures = root / "tests" / "swc_files"
    fixtures.mkdir(exist_ok=True)
    if swc_dir.is_dir():
        for swc in swc_dir.glob("*.swc"):
            (fixtures / swc.name).symlink_to(swc.resolve())
    # The suite's own pytest config (in pyproject/setup.cfg) is not wanted: ours is below.
    for cfg in ("pyproject.toml", "setup.cfg", "pytest.ini", "tox.ini"):
        (root / cfg).unlink(missing_ok=True)
    (root / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    regression: Jaxley regression timing tests\n"
        "    slow: slow tests\n"
        "filterwarnings =\n    ignore::DeprecationWarning\n",
        encoding="utf-8",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=REPO / ".jaxley-suite")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("--reuse", action="store_true", help="reuse an existing build folder")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)

    swc_dir = Path(os.environ.get("DENDRAX_SWC_DIR", REPO.parent / "shared" / "data" / "swc"))
    root = next(args.build.glob("[jJ]axley-*/"), None) if args.reuse else None
    if root is None:
        root = prepare(args.build, swc_dir)
    report = args.build / "report.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), str(args.build / "site"), str(root), env.get("PYTHONPATH", "")]
    )
    env["DENDRAX_SWC_DIR"] = str(swc_dir)
    env["DENDRAX_SUITE_REPORT"] = str(report)
    env["DENDRAX_KNOWN_DIFFERENCES"] = str(HERE / "known_differences.toml")
    cmd = [sys.executable, "-m", "pytest", "-p", "suite_plugin", "-q", "-p", "no:cacheprovider"]
    if args.workers not in ("0", ""):
        cmd += ["-n", args.workers]
    # Without test ids, the whole suite; with them, only those (ids are relative to the
    # suite root, e.g. tests/test_swc.py::test_swc_types).
    cmd += list(args.pytest_args) or ["tests"]
    proc = subprocess.run(cmd, cwd=root, env=env)
    if not report.exists():
        print(f"jaxley-suite: pytest produced no report (exit code {proc.returncode})")
        return proc.returncode or 1
    return summarize(report, HERE / "known_differences.toml", HERE / "pending.toml")


if __name__ == "__main__":
    sys.exit(main())
