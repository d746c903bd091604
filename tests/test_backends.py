"""The same named queries on every backend: the build in memory, an embedded Oxigraph
store, and a real Oxigraph server on 127.0.0.1 loaded through the Graph Store Protocol."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal

from kg.check import check
from kg.cli import cli
from kg.errors import BuildNotFoundError, DataError, QueryError, QueryRefused, UsageError
from kg.queries import QueryResult, execute, load_queries, run_checked
from kg.store import (
    Backend,
    Build,
    EndpointBackend,
    MemoryBackend,
    OxigraphBackend,
    _ask_answer,
    open_backend,
)

from .conftest import REPO, free_port

NAMED = load_queries(REPO / "queries")
#: separators of the GROUP_CONCATs in the named queries: their order is the engine's
_CONCAT = re.compile(r"; |, | \| | ")


def canonical(result: QueryResult) -> object:
    """A result compared across engines: rows as a multiset of tuples, with the parts of
    concatenated strings sorted (GROUP_CONCAT's order is up to the engine)."""
    if result.boolean is not None:
        return result.boolean
    if result.graph is not None:
        return sorted(_cell(t) for triple in result.graph for t in triple)
    out = Counter()
    for row in result.rows:
        cells = []
        for name in result.vars:
            term = row.get(name)
            if isinstance(term, Literal) and term.datatype is None and not term.language:
                cells.append(" ".join(sorted(_CONCAT.split(str(term)))))
            else:
                cells.append(_cell(term))
        out[tuple(cells)] += 1
    return out


def _cell(term: object) -> str:
    """A term for comparison: exactly its N-Triples form."""
    return "" if term is None else term.n3()  # type: ignore[attr-defined,no-any-return]


def _answers_match(backend: Backend, graph: Graph, name: str) -> None:
    """``backend`` answers named query ``name`` as rdflib does on the build's graph."""
    text = NAMED[name].bind({})
    want, got = execute(graph, check(text)), run_checked(backend, text)
    assert got.type == want.type
    assert canonical(got) == canonical(want), name


@pytest.mark.parametrize("name", sorted(NAMED))
def test_oxigraph_store_answers_as_rdflib(oxigraph_store: Backend, graph: Graph,
                                          name: str) -> None:
    _answers_match(oxigraph_store, graph, name)


@pytest.mark.parametrize("name", sorted(NAMED))
def test_the_memory_backend_answers_as_rdflib(built: Build, name: str) -> None:
    _answers_match(MemoryBackend(built), built.graph, name)


def test_the_graph_comes_back_from_oxigraph_unchanged(oxigraph_store: OxigraphBackend,
                                                      graph: Graph) -> None:
    """No literal is rewritten by the store (Oxigraph keeps only XSD's primitive types,
    and kg writes no other): what comes back is the build, triple for triple."""
    assert set(oxigraph_store.graph()) == set(graph)


def test_queries_are_checked_before_any_backend(oxigraph_store: Backend) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        run_checked(oxigraph_store,
                    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused):
        run_checked(oxigraph_store, "CLEAR DEFAULT")


def test_store_and_endpoint_errors(tmp_path: Path, build_dir: Path) -> None:
    with pytest.raises(UsageError, match="expected oxigraph:DIRECTORY"):
        open_backend(build_dir, store="sqlite:x")
    with pytest.raises(BuildNotFoundError, match="run 'kg load --store"):
        open_backend(build_dir, store=f"oxigraph:{tmp_path / 'none'}")
    with pytest.raises(UsageError, match="not both"):
        open_backend(build_dir, store="oxigraph:x", endpoint="http://127.0.0.1:1/")
    with pytest.raises(UsageError, match="not an http"):
        open_backend(build_dir, endpoint="file:///etc/passwd")
    with pytest.raises(DataError, match="cannot reach http://127.0.0.1:"):
        run_checked(EndpointBackend(f"http://127.0.0.1:{free_port()}/query"),
                    "ASK { ?s ?p ?o }")


@pytest.mark.parametrize("name", sorted(NAMED))
def test_virtuoso_answers_as_rdflib(virtuoso_endpoint: str, graph: Graph, name: str) -> None:
    """A second real engine behind --endpoint: Virtuoso 7 (Debian's), which answers only
    form-encoded POSTs and sends ASK answers as a one-row table."""
    _answers_match(EndpointBackend(virtuoso_endpoint), graph, name)


def test_virtuoso_ask_answers_both_ways(virtuoso_endpoint: str) -> None:
    endpoint = EndpointBackend(virtuoso_endpoint)
    assert run_checked(endpoint, "ASK { kgr:leg-cramp a kg:Condition }").boolean is True
    assert run_checked(endpoint, "ASK { kgr:leg-cramp a kg:Population }").boolean is False


def test_export_from_virtuoso_is_the_build_s(virtuoso_endpoint: str, build_dir: Path,
                                             tmp_path: Path) -> None:
    runner = CliRunner()
    for name, backend in (("virtuoso", ["--endpoint", virtuoso_endpoint]), ("memory", [])):
        result = runner.invoke(cli, ["export", "--around", "eclampsia", "--depth", "2",
                                     "--format", "nt", "-o", str(tmp_path / f"{name}.nt"),
                                     "--build-dir", str(build_dir), *backend])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "virtuoso.nt").read_bytes() == (tmp_path / "memory.nt").read_bytes()


def test_load_into_a_real_oxigraph_server_and_query_it(oxigraph_server: str, build_dir: Path,
                                                       built) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(cli, ["load", "--endpoint", oxigraph_server + "/store", "--batch",
                                 "1000", "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(built.graph)} triples" in result.stderr
    endpoint = EndpointBackend(oxigraph_server + "/query")
    count = run_checked(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(count.rows[0]["n"]) == len(built.graph)  # type: ignore[arg-type]
    for name in sorted(NAMED):
        _answers_match(endpoint, built.graph, name)
    # loading again replaces the graph (PUT, then POST): no duplicates, same size
    assert runner.invoke(cli, ["load", "--endpoint", oxigraph_server + "/store",
                               "--build-dir", str(build_dir)]).exit_code == 0
    count = run_checked(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(count.rows[0]["n"]) == len(built.graph)  # type: ignore[arg-type]
    out = runner.invoke(cli, ["query", "specialists", "--endpoint", oxigraph_server + "/query",
                              "--format", "csv", "--build-dir", str(build_dir)])
    assert out.exit_code == 0 and "phlebologist" in out.stdout


def test_kg_load_needs_one_target(build_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["load", "--build-dir", str(build_dir)])
    assert result.exit_code == 2 and "give --store oxigraph:DIR or --endpoint URL" in \
        result.stderr


@pytest.mark.parametrize("command", ["export", "viz"])
def test_export_and_viz_from_an_oxigraph_store(oxigraph_store: OxigraphBackend, graph,  # type: ignore[no-untyped-def]
                                               build_dir: Path, tmp_path: Path,
                                               command: str) -> None:
    from rdflib import Graph as RdfGraph
    from rdflib.compare import isomorphic

    from kg.subgraph import Selection, select

    target = tmp_path / ("out.ttl" if command == "export" else "out.html")
    args = [command, "--store", f"oxigraph:{oxigraph_store.path}", "--around", "eclampsia",
            "-o", str(target), "--build-dir", str(build_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    if command == "export":
        want = select(graph, Selection(around="eclampsia"))
        got = RdfGraph().parse(target)
        assert len(got) == len(want)
        assert isomorphic(_ints(got), _ints(want))
    else:
        assert "very high blood pressure" in target.read_text(encoding="utf-8")


def _ints(g):  # type: ignore[no-untyped-def]
    """``g`` with integer literals retyped xsd:integer (Oxigraph's storage does that)."""
    from rdflib import XSD
    from rdflib import Graph as RdfGraph

    out = RdfGraph()
    for s, p, o in g:
        if isinstance(o, Literal) and isinstance(o.toPython(), int) \
                and not isinstance(o.toPython(), bool):
            o = Literal(o.toPython(), datatype=XSD.integer)
        out.add((s, p, o))
    return out


@pytest.mark.parametrize("data,answer", [
    ({"head": {}, "boolean": True}, True),
    ({"head": {}, "boolean": False}, False),
    ({"head": {"vars": ["__ASK_RETVAL"]},
      "results": {"bindings": [{"__ASK_RETVAL": {"type": "literal", "value": "1"}}]}}, True),
    ({"head": {"vars": ["__ASK_RETVAL"]}, "results": {"bindings": []}}, False),
])
def test_ask_answers_in_both_shapes(data: dict[str, object], answer: bool) -> None:
    assert _ask_answer(data, "http://x/sparql") is answer


@pytest.mark.parametrize("data", [
    {"head": {"vars": ["a", "b"]}, "results": {"bindings": []}},
    {"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"value": "42"}}]}},
    {"head": {}},
])
def test_an_ask_answer_without_a_boolean_is_an_error(data: dict[str, object]) -> None:
    with pytest.raises(QueryError, match="without a boolean"):
        _ask_answer(data, "http://x/sparql")
