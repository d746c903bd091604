"""Shared fixtures: one real build of the repository's data, made once per session
in a temporary directory (tests never write into the repository)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph

import kg
from kg.store import Build

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
SOURCE = DATA / "sources" / "leg-cramps.txt"


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """kg's cache (checked queries) in a temporary directory, for this process and the
    kg commands the tests start: tests never write into ~/.cache."""
    path = tmp_path_factory.mktemp("cache")
    saved = os.environ.get("KG_CACHE_DIR")
    os.environ["KG_CACHE_DIR"] = str(path)
    yield path
    if saved is None:
        del os.environ["KG_CACHE_DIR"]
    else:
        os.environ["KG_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    kg.build_graph(DATA, out)
    return out


@pytest.fixture(scope="session")
def built(build_dir: Path) -> Build:
    return kg.load(build_dir)


@pytest.fixture(scope="session")
def graph(built: Build) -> Graph:
    return built.graph


@pytest.fixture(scope="session")
def source_text() -> str:
    return SOURCE.read_text(encoding="utf-8")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the data directory that a test may change."""
    dest = tmp_path / "data"
    shutil.copytree(DATA, dest)
    return dest
