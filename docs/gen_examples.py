"""Write the documentation's example pages (docs/examples/, git-ignored) from examples/*.py.

Each page holds the example's docstring, the command that runs it and its full source. With
``--run`` every example is also executed (in its own process), its printed output and its
figure (for those that write one) are put on the page. Without ``--run`` (the default of
``make docs``, to keep CI short) pages say how to produce the figure.

Usage: python docs/gen_examples.py [--run]
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OUT = ROOT / "docs" / "examples"
#: Examples in the order of the site's navigation; the first is `make demo`'s.
ORDER = [
    "train_network",
    "hh_cell",
    "fit_nwb_sweep",
    "snn_classification",
    "rockpool_regression",
    "cluster_sweep",
]


def _takes_out(source: str) -> bool:
    return '"--out"' in source


def _page(name: str, run: bool) -> str:
    path = EXAMPLES / f"{name}.py"
    source = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source)) or ""
    title, _, body = doc.partition("\n")
    figure = OUT / f"{name}.png"
    cmd = [sys.executable, str(path)] + (["--out", str(figure)] if _takes_out(source) else [])
    lines = [f"# {name}.py", "", title, "", body.strip(), ""]
    shown = f"python examples/{name}.py" + (f" --out {name}.png" if _takes_out(source) else "")
    lines += ["```bash", shown, "```", ""]
    if run:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"examples/{name}.py failed:\n{done.stderr[-3000:]}")
        printed = "\n".join(done.stdout.strip().splitlines()[-15:])
        lines += ["Output of the run that built this page:", "", "```text", printed, "```", ""]
        if figure.exists():
            lines += [f"![{name}]({name}.png)", ""]
    elif _takes_out(source):
        lines += [
            "The figure is produced by running the example (`make docs-full` puts it here).",
            "",
        ]
    lines += ["## Source", "", "```python", source.rstrip(), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run the examples for figures")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    missing = [n for n in ORDER if not (EXAMPLES / f"{n}.py").exists()]
    unlisted = sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem not in ORDER)
    if missing or unlisted:
        raise SystemExit(
            f"docs/gen_examples.py ORDER is stale: missing {missing}, unlisted {unlisted}"
        )
    index = ["# Examples", "", "Runnable scripts in `examples/`; each page shows the source.", ""]
    for name in ORDER:
        (OUT / f"{name}.md").write_text(_page(name, args.run), encoding="utf-8")
        doc = ast.get_docstring(ast.parse((EXAMPLES / f"{name}.py").read_text())) or ""
        index.append(f"- [{name}.py]({name}.md): {doc.splitlines()[0] if doc else ''}")
    (OUT / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    print(f"wrote {len(ORDER) + 1} pages to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
