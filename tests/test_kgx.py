"""The KGX export passes kgx's own validator, offline.

kgx 2.x downloads the Biolink model when it is imported; ``kg/kgx_offline.py``
points it at the model shipped in the ``biolink-model`` package and registers kg's
prefixes. These tests run ``kgx validate`` through it in a subprocess whose sockets
are blocked, and read the export back with kgx's TSV source in-process (kgx is
imported once per module: it is slow).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import cli
from kg.export import AGENT_TYPE, BIOLINK_PREDICATES, KNOWLEDGE_LEVEL
from kg.network import to_networkx
from kg.prefixes import curie

if importlib.util.find_spec("kgx") is None or importlib.util.find_spec("biolink_model") is None:
    if os.environ.get("KG_CI"):  # a test CI skips proves nothing
        pytest.fail("kgx and biolink-model (test extras) are not installed", pytrace=False)
    pytest.skip("kgx and biolink-model are test extras", allow_module_level=True)

#: Python run first in the subprocesses: any attempt to open a connection (or to
#: resolve a name) fails with NETWORK BLOCKED.
GUARD = """
import socket
def _blocked(*args, **kwargs):
    raise OSError("NETWORK BLOCKED: " + repr(args)[:200])
socket.getaddrinfo = socket.create_connection = _blocked
socket.socket.connect = socket.socket.connect_ex = _blocked
"""


@pytest.fixture(scope="module")
def kgx_dir(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The KGX export of the whole seed graph."""
    out = tmp_path_factory.mktemp("kgx") / "seed"
    result = CliRunner().invoke(cli, ["export", "--build-dir", str(build_dir), "--format",
                                      "kgx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _offline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = GUARD + "import runpy\nrunpy.run_module('kg.kgx_offline', run_name='__main__')\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


def test_kgx_fetches_the_model_unless_configured(tmp_path: Path) -> None:
    """The control: plain kgx reaches for the network at import (and the guard stops it)."""
    proc = subprocess.run([sys.executable, "-c", GUARD + "import kgx.utils.kgx_utils"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode != 0 and "NETWORK BLOCKED" in proc.stderr


def test_kgx_validate_passes_offline(kgx_dir: Path, tmp_path: Path) -> None:
    """``kgx validate`` (its command line, through kg/kgx_offline.py) on the seed
    export: exit 0, an empty report, and not one connection attempted."""
    proc = _offline("validate", "-i", "tsv", str(kgx_dir / "nodes.tsv"),
                    str(kgx_dir / "edges.tsv"), cwd=tmp_path)
    assert "NETWORK BLOCKED" not in proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # kgx 2.6 writes its report (JSON) to stderr whatever -o says
    assert json.loads(proc.stderr) == {}
    warnings = [line for line in proc.stdout.splitlines() if "WARNING" in line]
    print("kgx validate warnings:", *warnings, sep="\n  ")
    assert "ERROR" not in proc.stdout


def test_kgx_offline_refuses_a_download(tmp_path: Path) -> None:
    proc = _offline("validate", "-i", "tsv", "-b", "4.1.6", "x_nodes.tsv", cwd=tmp_path)
    assert proc.returncode == 1 and "downloads a model" in proc.stderr


@pytest.fixture(scope="module")
def kgx_module() -> Iterator[ModuleType]:
    """kgx, configured offline, imported with the network blocked."""
    import kg.kgx_offline as offline

    def blocked(*args: Any, **kwargs: Any) -> Any:
        raise OSError("NETWORK BLOCKED")

    with pytest.MonkeyPatch.context() as mp:
        for target, name in ((socket, "getaddrinfo"), (socket, "create_connection"),
                             (socket.socket, "connect"), (socket.socket, "connect_ex")):
            mp.setattr(target, name, blocked)
        if "kgx" not in sys.modules:
            offline.configure()
        import kgx.transformer

        yield kgx.transformer


def _records(directory: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every node and edge record as kgx's TSV source reads it (streaming: no merge)."""
    from kgx.source import TsvSource
    from kgx.transformer import Transformer

    source = TsvSource(Transformer())
    nodes, edges = [], []
    for name in ("nodes.tsv", "edges.tsv"):
        for rec in source.parse(str(directory / name), format="tsv"):
            if rec:
                (edges if len(rec) == 4 else nodes).append(rec[-1])
    return nodes, edges


def _read(kgx_module: ModuleType, directory: Path) -> Any:
    transformer = kgx_module.Transformer()
    transformer.transform(input_args={
        "filename": [str(directory / "nodes.tsv"), str(directory / "edges.tsv")],
        "format": "tsv"})
    return transformer.store.graph


def test_kgx_reads_the_export_and_its_validator_agrees(kgx_module: ModuleType, kgx_dir: Path,
                                                       graph: Graph) -> None:
    from kgx.validator import Validator

    g = _read(kgx_module, kgx_dir)
    want = to_networkx(graph, lists=True)
    assert g.number_of_nodes() == want.number_of_nodes()
    # kgx keys edges by (subject, Biolink predicate, object): facts sharing them merge
    triples = {(curie(u), BIOLINK_PREDICATES.get(d["relation"], "biolink:related_to"),
                curie(v)) for u, v, d in want.edges(data=True)}
    assert g.number_of_edges() == len(triples) < want.number_of_edges()
    validator = Validator()
    validator.validate(g)
    assert validator.get_errors() == {}
    # the Biolink enums really have the values kg writes
    toolkit = validator.get_validating_toolkit()
    assert KNOWLEDGE_LEVEL in toolkit.view.get_enum("KnowledgeLevelEnum").permissible_values
    assert AGENT_TYPE in toolkit.view.get_enum("AgentTypeEnum").permissible_values
    # the model shipped in the biolink-model package, not the one bmt would download
    assert toolkit.get_model_version() == importlib.metadata.version("biolink-model")


def test_kgx_edges_carry_the_evidence(kgx_module: ModuleType, kgx_dir: Path,
                                      graph: Graph) -> None:
    node_records, edge_records = _records(kgx_dir)
    nodes = {n["id"]: n for n in node_records}
    want = {curie(d["statement"]): (u, v, d) for u, v, d in
            to_networkx(graph, lists=True).edges(data=True) if "statement" in d}
    assert len(edge_records) == to_networkx(graph).number_of_edges()
    assert {e["id"] for e in edge_records} >= set(want)
    located = noted = 0
    for data in edge_records:
        assert data["knowledge_level"] == KNOWLEDGE_LEVEL and data["agent_type"] == AGENT_TYPE
        if data["id"] not in want:  # a triple without a statement (skos:related)
            assert "supporting_text" not in data
            continue
        u, v, fact = want[data["id"]]
        assert data["supporting_text"] == fact["quote"]
        assert data["publications"] == sorted(set(fact["document"]))
        # kg_* columns are not Biolink slots: kgx makes a list of them only when they
        # hold several values
        starts = data["kg_quote_start"]
        assert [int(x) for x in ([starts] if isinstance(starts, str) else starts)
                ] == fact["quote_start"]
        for end, node in (("subject", u), ("object", v)):
            span = data.get(f"{end}_location_in_text")
            if span:
                start, stop = (int(x) for x in span)
                attrs = nodes[curie(node)]
                names = {attrs["name"].lower(), *(s.lower() for s in attrs.get("synonym", []))}
                assert fact["quote"][0][start:stop].lower() in names
                located += 1
        if "note" in fact:
            assert data["kg_curator_note"] == fact["note"]
            noted += 1
    assert located > len(want) and noted > 0
    assert nodes["kgr:leg-cramp"]["category"] == ["biolink:DiseaseOrPhenotypicFeature"]
    assert "convulsions" in nodes["kgr:leg-cramp"]["synonym"]
