"""Shell completion, as the shells ask for it: the real ``kg`` entry point run with
click's completion environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

KG = str(Path(sys.executable).with_name("kg"))


def complete(words: str, shell: str = "bash", cwd: Path = REPO, **env: str) -> list[str]:
    """What ``kg`` offers for the last word of ``words`` (bash: type,value lines)."""
    parts = words.split(" ")
    environ = {**os.environ, "_KG_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(parts) - 1), **env}
    out = subprocess.run([KG], env=environ, cwd=cwd, capture_output=True, text=True,
                         timeout=30, check=True)
    assert out.stderr == ""
    return out.stdout.splitlines()


def values(lines: list[str]) -> set[str]:
    return {line.split(",", 1)[1] for line in lines if line.startswith("plain,")}


def test_commands_complete() -> None:
    assert values(complete("kg qu")) == {"queries", "query"}


def test_query_names_complete() -> None:
    assert values(complete("kg query causes-")) == {"causes-by-category",
                                                    "causes-for-population"}
    # a word that names no query may be a .rq file: the shell completes paths
    assert complete("kg query ./my") == ["file,./my"]


def test_query_names_come_from_the_queries_option(tmp_path: Path) -> None:
    (tmp_path / "mine.rq").write_bytes((REPO / "queries" / "anatomy.rq").read_bytes())
    assert values(complete(f"kg query --queries {tmp_path} m")) == {"mine"}


def test_entities_complete_from_the_build(build_dir: Path) -> None:
    found = values(complete(f"kg export --build-dir {build_dir} --around leg-c"))
    assert found == {"leg-cramp"}
    # by label too, offered as the id (one word), with the label as zsh's help
    assert values(complete(f"kg viz --build-dir {build_dir} --population preg")) == {
        "pregnant-women"}
    zsh = complete(f"kg viz --build-dir {build_dir} --population precordial", shell="zsh")
    assert zsh == ["plain", "heart-pain", "precordial pain"]
    assert values(complete(f"kg export --build-dir {build_dir} --path diuretics leg-c")) == {
        "leg-cramp"}


def test_entities_from_kg_build_dir(build_dir: Path, tmp_path: Path) -> None:
    assert values(complete("kg export --around eclam", cwd=tmp_path,
                           KG_BUILD_DIR=str(build_dir))) == {"eclampsia"}


@pytest.mark.parametrize("where", ["missing", "file"])
def test_no_build_offers_nothing_quietly(where: str, tmp_path: Path) -> None:
    target = tmp_path / "b"
    if where == "file":
        target.write_text("not a build")
    assert values(complete(f"kg export --build-dir {target} --around leg",
                           cwd=tmp_path)) == set()
