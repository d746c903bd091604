"""Shared fixtures: one real build of the repository's data, made once per session
in a temporary directory (tests never write into the repository)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

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


def children(pid: int) -> list[int]:
    """The processes alive whose parent is ``pid`` (Linux /proc; zombies left out)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


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
        _wait_for(base + "/query?query=ASK%7B%7D", proc, "the oxigraph server", 20)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for(url: str, proc: subprocess.Popen[bytes], what: str, seconds: float) -> None:
    """Wait until ``url`` answers (``proc`` serving it), or fail the test."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"{what} did not start")
            time.sleep(0.2)


# --------------------------------------------------------------------------- Virtuoso

#: Debian's Virtuoso (virtuoso-opensource-7-bin): the server and its SQL client
VIRTUOSO, ISQL = shutil.which("virtuoso-t"), shutil.which("isql-vt")
#: the named graph the Virtuoso tests load the build into
VIRTUOSO_GRAPH = "https://w3id.org/health-kg/graph"
_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
DirsAllowed = {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 4

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


def need_system_tool(found: str | None, what: str) -> None:
    """Skip the test when a system package it needs is missing (``make test`` on a
    machine without it), but fail it in CI (``KG_CI=1``, set by .ci/run, which installs
    the package): a test that CI skips proves nothing."""
    if found is None:
        if os.environ.get("KG_CI"):
            pytest.fail(f"{what} is not installed, and .ci/run should have installed it")
        pytest.skip(f"{what} is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def virtuoso_endpoint(build_dir: Path, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[str]:
    """A real Virtuoso 7 server on free loopback ports, the build loaded (with its SQL
    client: Virtuoso's Graph Store Protocol needs an account) into graph
    VIRTUOSO_GRAPH; yields its SPARQL endpoint URL, which names that graph as the
    default graph (``?default-graph-uri=``)."""
    need_system_tool(VIRTUOSO and ISQL, "Virtuoso (apt-get install virtuoso-opensource-7-bin)")
    assert VIRTUOSO is not None and ISQL is not None
    d = tmp_path_factory.mktemp("virtuoso")
    sql, http = free_port(), free_port()
    (d / "virtuoso.ini").write_text(_VIRTUOSO_INI.format(d=d, sql=sql, http=http))
    shutil.copy(build_dir / "graph.nt", d / "graph.nt")
    proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(d / "virtuoso.ini")],
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}/sparql"
    try:
        _wait_for(base + "?query=ASK%7B%7D", proc, "Virtuoso", 60)
        load = subprocess.run(
            [ISQL, f"127.0.0.1:{sql}", "dba", "dba",
             f"exec=DB.DBA.TTLP_MT(file_to_string_output('{d / 'graph.nt'}'), '', "
             f"'{VIRTUOSO_GRAPH}', 0);"], capture_output=True, text=True, timeout=120)
        assert load.returncode == 0 and "Error" not in load.stdout, load.stdout + load.stderr
        yield base + "?" + urllib.parse.urlencode({"default-graph-uri": VIRTUOSO_GRAPH})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def viz_benchmark() -> ModuleType:
    """benchmarks/viz_draw.py: the Chromium settings (Debian's /usr/bin/chromium, the
    network blocked) and the synthetic graphs the browser tests share with it."""
    spec = importlib.util.spec_from_file_location("viz_draw", REPO / "benchmarks" / "viz_draw.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module."""
    bench = viz_benchmark()
    need_system_tool(bench.CHROMIUM if Path(bench.CHROMIUM).exists() else None,
                     f"Chromium at {bench.CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = bench.launch(pw)
        yield b
        b.close()
