"""Docs that cannot drift: the README's promises are checked here."""

from __future__ import annotations

import re

from kg.cli import cli

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_make_run_and_make_test() -> None:
    first_screen = "\n".join(README.splitlines()[:30])
    assert "make run" in first_screen and "make test" in first_screen


def test_readme_mentions_every_command() -> None:
    for name in cli.commands:
        assert f"kg {name}" in README, name


def test_makefile_targets_exist() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_ci_calls_make_test() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The README's Python block, run in a scratch directory that links to data/."""
    block = re.search(r"```python\n(.*?)```", README, re.S)
    assert block is not None
    (tmp_path / "data").symlink_to(REPO / "data")
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "'causes':" in out
    assert "magnesium deficiency" in out and "thyroid disease" in out
