"""The documentation site builds with warnings as errors, renders, and its search finds the API.

The site is built into a temporary folder with the same commands as ``make docs``. Where
Debian's Chromium is installed, the home page is rendered headless and its DOM checked;
otherwise (CI) the built HTML and the search index are checked directly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "docs/gen_examples.py"], cwd=ROOT, check=True, timeout=120)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def test_pages_exist_with_api_reference(site):
    for page in (
        "index.html",
        "getting-started/index.html",
        "coming-from-jaxley/index.html",
        "coming-from-rockpool/index.html",
        "performance/index.html",
        "api/io/index.html",
        "examples/train_network/index.html",
    ):
        assert (site / page).is_file(), page
    io_page = (site / "api/io/index.html").read_text(encoding="utf-8")
    # the reference is generated from docstrings: names, units and the Raises section
    assert "read_current_clamp" in io_page and "NWBError" in io_page
    assert "mV" in io_page and "nA" in io_page
    jaxley = (site / "coming-from-jaxley/index.html").read_text(encoding="utf-8")
    assert "Recordings table" in jaxley  # the README's differences table, included


def test_search_index_finds_api_names(site):
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    docs = index["docs"]
    assert len(docs) > 50

    def hits(word):
        return [d["location"] for d in docs if re.search(word, d["title"] + " " + d["text"])]

    assert any("api/compat" in loc for loc in hits("alias_jaxley"))
    assert any("api/io" in loc for loc in hits("read_current_clamp"))
    assert hits("no_such_word_anywhere_in_dendrax") == []


def test_home_page_renders(site):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    html = (site / "index.html").read_text(encoding="utf-8")
    if chromium:
        done = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--dump-dom",
                (site / "index.html").as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        html = done.stdout
    assert "<h1" in html and "dendrax" in html
    assert 'href="getting-started/' in html and "search" in html.lower()
