"""benchmarks/serve_load.py: a quick run with the built-in client measures both servers at
every level, with no error at one connection, and both scenarios; --write keeps
RESULTS.md's other content."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import OXIGRAPH, REPO

SCRIPT = REPO / "benchmarks" / "serve_load.py"
NUMBER = re.compile(r"^[\d,]+(\.\d+)?$")
LATENCY = re.compile(r"^[\d,]+(\.\d+)? (ms|s)$")


def _module(path: Path) -> ModuleType:
    """A benchmark script as a module (registered: its dataclasses look themselves up),
    imported as running it would: its own directory first on ``sys.path``."""
    name = f"_bench_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"(?m)^(### .*)$", text)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _tables(section: str) -> list[list[list[str]]]:
    """Each Markdown table of ``section``: its rows (header and rule left out)."""
    tables: list[list[list[str]]] = []
    for block in re.split(r"\n\s*\n", section):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if len(lines) > 2:
            tables.append([[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]])
    return tables


def test_quick_run_measures_both_servers() -> None:
    if OXIGRAPH is None:
        pytest.fail("the oxigraph server binary is not installed (pip install oxigraph)")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--client", "python"],
                          capture_output=True, text=True, timeout=150, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "benchmarks/serve_load.py --quick --client python" in out  # the command
    assert "built-in asyncio HTTP/1.1 keep-alive client" in out  # which generator
    for word in ("CPU:", "logical CPUs", "Python", "kg 0.", "oxigraph 0."):
        assert word in out, word
    sections = _sections(out)
    titles = [t.split(":")[0] for t in sections]
    assert titles == ["### Cheap query, the same text every request", "### Distinct queries",
                      "### One client", "### Runaway query beside 50 clients (kg)",
                      "### Memory"], titles
    cheap, distinct, probe, runaway, memory = sections.values()

    for title, section in (("cheap", cheap), ("distinct", distinct)):
        (rows,) = _tables(section)
        assert [r[0] for r in rows] == ["1", "8"], title
        for r in rows:
            # connections | kg: req/s p50 p99 errors accepted | Oxigraph: the same | ratio
            assert len(r) == 12, r
            for rps, p50, p99, _, accepted in (r[1:6], r[6:11]):
                assert NUMBER.match(rps) and float(rps.replace(",", "")) > 0, r
                assert LATENCY.match(p50) and LATENCY.match(p99), r
                assert accepted.isdigit(), r
            assert re.match(r"^\d", r[11]), r
        assert rows[0][4] == "0" and rows[0][9] == "0", f"{title}: errors at 1 connection"

    (rows,) = _tables(probe)
    assert [r[0] for r in rows] == ["kg", "Oxigraph"]
    assert all(LATENCY.match(c) for r in rows for c in r[1:]), rows

    query, clients = _tables(runaway)
    assert re.fullmatch(r"\d{3}", query[0][1]), query  # an HTTP status
    assert clients[-1][0] == "whole run" and int(clients[-1][2].replace(",", "")) > 0

    rss, answers = _tables(memory)
    assert [r[0] for r in rss][2] == "peak while they ran"
    assert all(re.fullmatch(r"[\d,]+ MiB", r[1]) for r in rss), rss
    assert len(answers) == 3 and all(re.fullmatch(r"\d{3}", r[1]) for r in answers), answers


def test_write_replaces_the_block_and_run_py_keeps_it(tmp_path: Path) -> None:
    serve_load = _module(SCRIPT)
    run = _module(REPO / "benchmarks" / "run.py")
    results = tmp_path / "RESULTS.md"
    results.write_text("# kg benchmarks\n\n## Build\n\n| a |\n|---|\n| 1 |\n")
    serve_load.write_results("## serve load\n\nfirst\n", results)
    first = results.read_text()
    assert first.startswith("# kg benchmarks\n") and "| 1 |" in first
    assert first.endswith(f"{serve_load.BEGIN}\n## serve load\n\nfirst\n{serve_load.END}\n")
    serve_load.write_results("## serve load\n\nsecond\n", results)
    second = results.read_text()
    assert "first" not in second and second.count(serve_load.BEGIN) == 1
    assert second == first.replace("first", "second")
    # run.py writes the report afresh, with the block kept at its end
    block = run.serve_load_block(results)
    assert block.strip() == second[second.index(serve_load.BEGIN):].strip()
    assert run.serve_load_block(tmp_path / "missing.md") == ""
