"""Shared fixtures: one real build of the repository's data, made once per session
in a temporary directory (tests never write into the repository)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph

import kg
from kg.store import Backend, Build, OxigraphBackend, load_build

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


# --------------------------------------------------------------------------- Oxigraph

#: the Oxigraph server binary (PyPI 'oxigraph', a test dependency)
OXIGRAPH = shutil.which("oxigraph", path=os.path.dirname(sys.executable)) or shutil.which(
    "oxigraph")


@pytest.fixture(scope="module")
def oxigraph_store(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    path = tmp_path_factory.mktemp("ox") / "store"
    store = OxigraphBackend(path, create=True)
    assert store.load(build_dir / "graph.nt") == len(load_build(build_dir).graph)
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server (PyPI 'oxigraph') on a free loopback port."""
    if OXIGRAPH is None:  # a test dependency (pyproject's 'test' extra): never skipped
        pytest.fail("the oxigraph server binary is not installed (pip install oxigraph)")
    port = free_port()
    location = tmp_path_factory.mktemp("oxserver")
    proc = subprocess.Popen([OXIGRAPH, "serve", "--location", str(location), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/query?query=ASK%7B%7D", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the oxigraph server did not start")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
