"""pytest plugin loaded into Jaxley's rewritten test suite (see ``run_suite.py``).

- blocks any real ``import jaxley``, so nothing but dendrax can be under test;
- skips, with a reason, tests whose SWC fixture is not in the shared data folder;
- writes every test's outcome to ``$DENDRAX_SUITE_REPORT`` (JSON) for the summary.
"""

from __future__ import annotations

import importlib.abc
import inspect
import json
import os
import re
import sys
from pathlib import Path

import pytest


class _BlockJaxley(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "jaxley" or fullname.startswith("jaxley."):
            raise ImportError(
                f"import of {fullname!r} blocked: the Jaxley suite must run on dendrax only"
            )
        return None


sys.meta_path.insert(0, _BlockJaxley())

_SWC_NAME = re.compile(r"[\"']([\w.\-]+\.swc)[\"']")


def _missing_swc(item, swc_dir: Path) -> list[str]:
    names = set()
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for value in callspec.params.values():
            if isinstance(value, str) and value.endswith(".swc"):
                names.add(value)
    if callspec is None or not names:
        try:
            source = inspect.getsource(item.function)
        except (OSError, TypeError):
            source = ""
        # Names in a parametrize list are covered by the callspec; only literal ones here.
        if callspec is None:
            names.update(_SWC_NAME.findall(source))
    return sorted(n for n in names if not (swc_dir / n).exists())


def pytest_collection_modifyitems(config, items):
    swc_dir = Path(os.environ.get("DENDRAX_SWC_DIR", ""))
    for item in items:
        missing = _missing_swc(item, swc_dir)
        if missing:
            reason = f"SWC fixture not in {swc_dir}: {', '.join(missing)}"
            item.add_marker(pytest.mark.skip(reason=reason))


_outcomes: dict[str, str] = {}
_errors: dict[str, str] = {}


def _record(nodeid: str, outcome: str, text: str = "") -> None:
    previous = _outcomes.get(nodeid)
    # A failure in any phase (setup, call, teardown) makes the test failed.
    if previous == "failed":
        return
    if outcome == "failed" or previous is None or outcome == "skipped":
        _outcomes[nodeid] = outcome
        if text:
            _errors[nodeid] = text[-2000:]


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        text = report.longreprtext if report.outcome == "failed" else ""
        _record(report.nodeid, report.outcome, text)


def pytest_collectreport(report):
    if report.outcome == "failed":
        _record(report.nodeid, "failed", report.longreprtext)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    path = os.environ.get("DENDRAX_SUITE_REPORT")
    if path:
        Path(path).write_text(
            json.dumps({"outcomes": _outcomes, "errors": _errors}, indent=1), encoding="utf-8"
        )
