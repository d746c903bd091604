"""benchmarks/run.py: a smoke run on the smallest corpus writes every table and target."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

SCRIPT = REPO / "benchmarks" / "run.py"

HEADINGS = (
    "## Targets",
    "## Build",
    "## Loading the backends",
    "## Named queries: Oxigraph backend vs raw pyoxigraph",
    "## Named queries: raw rdflib vs kg's memory and Oxigraph backends",
    "## --around export",
    "## kg viz of a ~500-entity selection",
    "## Peak memory",
    "## Seed: kg query cold vs a plain rdflib script",
)
TARGETS = (
    "Seed: `kg query` cold <= 0.5x the plain rdflib script",
    "named queries on the Oxigraph backend <= 1.5x raw pyoxigraph",
    ">= 10x faster than rdflib's memory store",
    "`kg build` >= 100k triples/s",
    "peak memory <= 1.5 GB: `kg build`, `kg load --store oxigraph`",
)


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"(?m)^(## .*)$", text)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _table_rows(section: str) -> list[list[str]]:
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in rows[2:]]


def test_smoke_run_writes_every_table(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "10", "--runs", "1", "--out", str(out),
         "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "size 10: kg build" in proc.stderr  # progress goes to stderr
    text = out.read_text(encoding="utf-8")

    assert "benchmarks/run.py --sizes 10 --runs 1" in text  # the command
    for word in ("platform:", "CPU:", "RAM:", "rdflib", "pyoxigraph", "Date:"):
        assert word in text
    sections = _sections(text)
    assert list(sections) == list(HEADINGS)
    for heading, section in sections.items():
        rows = _table_rows(section)
        assert rows, f"{heading}: no rows"
        assert not any("not measured" in c or "timed out" in c for r in rows for c in r), \
            f"{heading}: {rows}"
        if heading not in ("## Targets", "## Seed: kg query cold vs a plain rdflib script"):
            assert any(r[0] == "10" for r in rows), f"{heading}: no row for 10 documents"

    targets = _table_rows(sections["## Targets"])
    for target in TARGETS:
        matching = [r for r in targets if target in r[0]]
        assert matching, f"no target line {target!r}"
        assert matching[0][-1] in ("**PASS**", "**MISS**", "**n/a**")
    # the seed target is measured on the seed article; the 1M ones are n/a at 10 documents
    assert targets[0][-1] in ("**PASS**", "**MISS**")
    assert all(r[-1] == "**n/a**" for r in targets[1:])

    queries = _table_rows(sections["## Named queries: Oxigraph backend vs raw pyoxigraph"])
    assert {r[1].split()[0].strip("`") for r in queries} == {
        "causes-by-category", "causes-for-population", "evidence"}
    assert all("differ" not in r[2] for r in queries)  # same rows from kg and raw
