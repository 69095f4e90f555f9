"""Summary of a Jaxley-suite run against the known-differences list."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path


def load_known_differences(path: Path) -> dict[str, str]:
    """Test id -> reason, from ``known_differences.toml`` (table ``[tests]``)."""
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    tests = data.get("tests", {})
    bad = [k for k, v in tests.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ValueError(f"{path}: entries need a one-line reason: {bad}")
    return dict(tests)


def summarize(report_path: Path, known_path: Path, pending_path: Path | None = None) -> int:
    """Print the suite figure and the unlisted failures; return the exit code.

    ``pending_path`` lists failing tests that are still to be fixed (not accepted
    differences): they are printed and counted apart, and do not fail the run.
    """
    report = json.loads(report_path.read_text(encoding="utf-8"))
    outcomes: dict[str, str] = report["outcomes"]
    known = load_known_differences(known_path)
    pending = load_known_differences(pending_path) if pending_path else {}
    passed = sorted(k for k, v in outcomes.items() if v == "passed")
    skipped = sorted(k for k, v in outcomes.items() if v == "skipped")
    failed = sorted(k for k, v in outcomes.items() if v == "failed")
    listed = [k for k in failed if k in known]
    still_pending = [k for k in failed if k in pending and k not in known]
    unlisted = [k for k in failed if k not in known and k not in pending]
    stale = sorted(k for k in {**known, **pending} if outcomes.get(k) == "passed")
    for k in unlisted:
        print(f"FAILED (not a known difference): {k}")
    for k in still_pending:
        print(f"pending (still to fix): {k}: {pending[k]}")
    for k in stale:
        print(f"note: listed in known_differences.toml but passes now: {k}")
    print(
        f"jaxley-suite: {len(passed)} passed, {len(unlisted) + len(still_pending)} failed, "
        f"{len(skipped)} skipped, "
        f"{len(listed)} listed of {len(outcomes)}"
        + (f" ({len(still_pending)} of the failed are pending fixes)" if still_pending else "")
    )
    return 1 if unlisted else 0
