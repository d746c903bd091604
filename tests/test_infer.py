"""Inference users can switch on (kg.infer): what the ontology entails, inferred by
owlrl at build time, kept in inferred.nt and a named graph of its own, seen by a query
only with inference on: from the command line, Python, the endpoint and an Oxigraph
store. Never in graph.nt, the asserted-only queries or the exports."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal

import kg
from kg.build import compile_data
from kg.cli import cli
from kg.errors import BuildNotFoundError, DataError, UsageError
from kg.infer import INFERRED_GRAPH, INFERRED_NT, infer, one_premise
from kg.paths import GRAPH_NT, MANIFEST
from kg.queries import load_queries
from kg.server import ServerConfig, SparqlServer
from kg.store import Build, MemoryBackend, OxigraphBackend, open_backend
from kg.vocab import KG, KGR, SCHEMA, WDT

from .conftest import DATA, REPO

TIMEOUT = 10
#: (query, what it counts): each answers nothing without inference
QUESTIONS = {
    "hasCause": "SELECT (COUNT(*) AS ?n) WHERE { ?x kg:hasCause ?y }",
    "P828": "SELECT (COUNT(*) AS ?n) WHERE { ?x wdt:P828 ?y }",
    "HealthProblem": "SELECT (COUNT(*) AS ?n) WHERE { ?x a kg:HealthProblem }",
}
#: what each must count with inference on, asked of the asserted graph
EXPECTED = {
    "hasCause": "SELECT (COUNT(*) AS ?n) WHERE { ?y kg:causes ?x }",
    "P828": "SELECT (COUNT(*) AS ?n) WHERE { ?y kg:causes ?x }",
    "HealthProblem": "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a/rdfs:subClassOf* "
                     "kg:HealthProblem }",
}
IN_GRAPH = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"


def count(result: kg.QueryResult) -> int:
    return int(result.rows[0]["n"])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def expected(built: Build) -> dict[str, int]:
    numbers = {name: count(built.query(text)) for name, text in EXPECTED.items()}
    assert all(n > 10 for n in numbers.values()), numbers
    return numbers


@pytest.fixture(scope="module")
def inferred(build_dir: Path) -> Graph:
    return Graph().parse(build_dir / INFERRED_NT, format="nt")


# --------------------------------------------------------------------------- the build


def test_the_build_writes_inferred_nt_apart(build_dir: Path, built: Build, inferred: Graph
                                            ) -> None:
    manifest = json.loads((build_dir / MANIFEST).read_text())
    assert INFERRED_NT in manifest["outputs"]
    assert manifest["inferred"]["triples"] == len(inferred) > 300
    assert manifest["inferred"]["graph"] == INFERRED_GRAPH
    assert manifest["inferred"]["reasoner"].startswith("owlrl ")
    assert manifest["inferred"]["method"] == "patterns"
    assert not set(inferred) & set(built.graph)  # never also asserted: graph.nt unchanged
    assert (KGR["leg-cramp"], KG.hasCause, KGR["magnesium-deficiency"]) in inferred
    assert (KGR["leg-cramp"], WDT.P828, KGR["magnesium-deficiency"]) in inferred
    assert (KGR["leg-cramp"], SCHEMA.cause, KGR["magnesium-deficiency"]) in inferred
    assert (KGR["leg-cramp"], RDF.type, KG.HealthProblem) in inferred


def test_only_useful_triples_about_entities_are_kept(inferred: Graph, built: Build) -> None:
    """No owl:sameAs, owl:Thing, rdfs:Resource, literal or schema closure; nothing
    about statement, evidence or document nodes."""
    entities = set(built.graph.subjects(RDFS.label)) & {
        s for s in built.graph.subjects() if str(s).startswith(str(KGR))}
    for s, p, o in inferred:
        assert s in entities, s
        assert not isinstance(o, Literal | BNode)
        assert p not in (OWL.sameAs, OWL.differentFrom, RDFS.subClassOf, RDFS.subPropertyOf)
        assert not str(p).startswith((str(OWL), str(RDFS)))
        if p == RDF.type:
            assert not str(o).startswith((str(OWL), str(RDFS), str(RDF))), o
        else:
            assert o in entities, (s, p, o)
    predicates = set(inferred.predicates())
    assert {KG.hasCause, SCHEMA.cause, WDT.P828, SCHEMA.possibleTreatment, WDT.P2176,
            SCHEMA.signOrSymptom, WDT.P780, RDF.type} <= predicates


def test_domains_and_ranges_add_no_class_the_subclasses_do_not(inferred: Graph,
                                                              graph: Graph) -> None:
    """The build refuses a fact whose ends lack the classes of the relation's domain
    and range, so every inferred class is a superclass of an asserted one."""
    for s, cls in inferred.subject_objects(RDF.type):
        supers = {c for t in graph.objects(s, RDF.type)
                  for c in graph.transitive_objects(t, RDFS.subClassOf)}
        assert cls in supers, (s, cls)


def test_the_patterns_give_what_owlrl_gives_over_the_whole_graph() -> None:
    compiled = compile_data(DATA)
    assert compiled.ontology is not None and one_premise(compiled.ontology)
    fast = infer(compiled.ontology, compiled.corpus, compiled.lines)
    full = infer(compiled.ontology, compiled.corpus, compiled.lines, method="full")
    assert (fast.method, full.method) == ("patterns", "full")
    assert fast.lines == full.lines and len(fast.lines) > 300


def test_inference_is_deterministic(build_dir: Path, tmp_path: Path) -> None:
    kg.build_graph(DATA, tmp_path / "again")
    for name in (INFERRED_NT, GRAPH_NT, MANIFEST):
        assert (tmp_path / "again" / name).read_bytes() == (build_dir / name).read_bytes()


def test_an_ontology_beyond_one_premise_is_reasoned_over_in_full(data_copy: Path,
                                                                 tmp_path: Path) -> None:
    """A transitive property joins two facts: the patterns would miss its conclusions,
    so owlrl reasons over the whole entity layer instead."""
    ontology = data_copy / "ontology.ttl"
    ontology.write_text(ontology.read_text() + "\nkg:subtypeOf a owl:TransitiveProperty .\n")
    kg.build_graph(data_copy, tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    assert manifest["inferred"]["method"] == "full"
    got = Graph().parse(tmp_path / "b" / INFERRED_NT, format="nt")
    assert (KGR["leg-cramp"], KG.hasCause, KGR["magnesium-deficiency"]) in got
    asserted = Graph().parse(tmp_path / "b" / GRAPH_NT, format="nt")
    chains = [(a, c) for a, b in asserted.subject_objects(KG.subtypeOf)
              for c in asserted.objects(b, KG.subtypeOf)]
    for a, c in chains:
        assert (a, KG.subtypeOf, c) in got or (a, KG.subtypeOf, c) in asserted


# --------------------------------------------------------------------------- Python


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_python_api_answers_with_inference_on_only(built: Build, expected: dict[str, int],
                                                   name: str) -> None:
    assert count(built.query(QUESTIONS[name])) == 0
    assert count(built.query(QUESTIONS[name], infer=True)) == expected[name]


def test_named_queries_and_graph_keep_them_apart(built: Build, inferred: Graph) -> None:
    """With inference on, GRAPH <inferred> holds exactly inferred.nt; off, that graph is
    not there at all. Named queries take their parameters beside infer=True."""
    assert count(built.query(IN_GRAPH, infer=True)) == len(inferred)
    assert count(built.query(IN_GRAPH)) == 0
    everything = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert count(built.query(everything)) == len(built.graph)
    assert count(built.query(everything, infer=True)) == len(built.graph) + len(inferred)
    result = built.query("does-cause", infer=True, cause="kgr:diuretics")
    assert result.boolean is True


def _build_without_inferred(build_dir: Path, tmp_path: Path) -> Path:
    """A copy of the build as a kg from before inference made it: no inferred.nt."""
    old = tmp_path / "old"
    shutil.copytree(build_dir, old)
    manifest = json.loads((old / MANIFEST).read_text())
    del manifest["outputs"][INFERRED_NT]
    (old / MANIFEST).write_text(json.dumps(manifest))
    return old


def test_a_build_without_inferred_triples_says_so(build_dir: Path, tmp_path: Path) -> None:
    old = _build_without_inferred(build_dir, tmp_path)
    built = kg.load(old)
    assert count(built.query(QUESTIONS["hasCause"])) == 0
    with pytest.raises(BuildNotFoundError, match="no inferred triples.*run 'kg build' again"):
        built.query(QUESTIONS["hasCause"], infer=True)
    result = CliRunner().invoke(cli, ["query", "-e", QUESTIONS["P828"], "--infer",
                                      "--build-dir", str(old)])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "no inferred triples" in result.stderr


# --------------------------------------------------------------------------- the CLI


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_kg_query_answers_with_infer_only(build_dir: Path, expected: dict[str, int],
                                          name: str) -> None:
    code, out, err = invoke("query", "-e", QUESTIONS[name], "--format", "csv",
                            "--build-dir", str(build_dir))
    assert code == 0 and out.split() == ["n", "0"] and err == ""  # off: quiet in a pipe
    code, out, err = invoke("query", "-e", QUESTIONS[name], "--format", "csv", "--infer",
                            "--build-dir", str(build_dir))
    assert code == 0 and out.split() == ["n", str(expected[name])]
    assert err.startswith("kg: inference: on") and INFERRED_GRAPH in err


def test_kg_queries_says_inference_is_off_by_default() -> None:
    code, out, err = invoke("queries", "--queries", str(REPO / "queries"))
    assert code == 0 and out.startswith("NAME") and "inference: off" in err
    code, out, _ = invoke("queries", "--format", "json", "--queries", str(REPO / "queries"))
    assert code == 0 and json.loads(out)


def test_infer_on_an_endpoint_is_refused(build_dir: Path) -> None:
    with pytest.raises(UsageError, match="--infer"):
        open_backend(build_dir, endpoint="http://127.0.0.1:1/sparql", infer=True)
    code, _, err = invoke("query", "-e", "ASK {}", "--infer", "--endpoint",
                          "http://127.0.0.1:1/sparql", "--build-dir", str(build_dir))
    assert code == 2 and "--infer runs on the build or an Oxigraph store" in err


def test_exports_hold_no_inferred_triple(build_dir: Path, inferred: Graph, graph: Graph,
                                         tmp_path: Path) -> None:
    code, out, _ = invoke("export", "--format", "nt", "--build-dir", str(build_dir))
    assert code == 0
    exported = Graph().parse(data=out, format="nt")
    assert len(exported) == len(graph) and not set(exported) & set(inferred)
    code, out, _ = invoke("query", "entity-graph", "-p", "entity", "kgr:leg-cramp",
                          "--format", "nt", "--build-dir", str(build_dir))
    assert code == 0 and not set(Graph().parse(data=out, format="nt")) & set(inferred)
    code, out, _ = invoke("export", "--around", "leg cramp", "--format", "nt",
                          "--build-dir", str(build_dir))
    assert code == 0 and not set(Graph().parse(data=out, format="nt")) & set(inferred)


# --------------------------------------------------------------------------- Oxigraph store


@pytest.fixture(scope="module")
def store_dir(build_dir: Path, built: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ox-infer") / "store"
    loaded = OxigraphBackend(path, create=True).load(
        built.output_path(GRAPH_NT), inferred=built.output_path(INFERRED_NT))
    assert loaded == len(built.graph)
    return path


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_an_oxigraph_store_answers_with_inference_on_only(
        store_dir: Path, build_dir: Path, expected: dict[str, int], name: str) -> None:
    for on, want in ((False, 0), (True, expected[name])):
        code, out, _ = invoke("query", "-e", QUESTIONS[name], "--format", "csv",
                              "--store", f"oxigraph:{store_dir}", "--build-dir",
                              str(build_dir), *(["--infer"] if on else []))
        assert code == 0 and out.split() == ["n", str(want)]


def test_an_oxigraph_store_hides_the_inferred_graph_when_off(store_dir: Path, graph: Graph,
                                                             inferred: Graph) -> None:
    off = OxigraphBackend(store_dir)
    on = OxigraphBackend(store_dir, infer=True)
    try:
        from kg.queries import run_checked

        any_graph = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        assert count(run_checked(off, any_graph)) == 0
        assert count(run_checked(on, any_graph)) == len(inferred)
        assert count(run_checked(on, IN_GRAPH)) == len(inferred)
        assert set(off.graph()) == set(graph)  # export and viz read the asserted graph
    finally:
        off.close()
        on.close()


def test_kg_load_store_loads_the_inferred_triples(build_dir: Path, tmp_path: Path,
                                                  expected: dict[str, int]) -> None:
    store = f"oxigraph:{tmp_path / 'store'}"
    code, _, err = invoke("load", "--store", store, "--build-dir", str(build_dir))
    assert code == 0, err
    code, out, err = invoke("query", "-e", QUESTIONS["hasCause"], "--format", "csv", "--infer",
                            "--store", store, "--build-dir", str(build_dir))
    assert code == 0, err
    assert out.split() == ["n", str(expected["hasCause"])]


def test_an_oxigraph_store_without_inferred_triples_says_so(oxigraph_store: OxigraphBackend
                                                            ) -> None:
    from kg.queries import run_checked

    backend = OxigraphBackend(oxigraph_store.path, infer=True)
    try:
        with pytest.raises(DataError, match="has no inferred triples"):
            run_checked(backend, QUESTIONS["hasCause"])
    finally:
        backend.close()


# --------------------------------------------------------------------------- kg serve


class Running:
    """A SparqlServer serving in a thread, on a free loopback port."""

    def __init__(self, built: Build, infer: bool) -> None:
        """(Inference on through the backend; ``kg serve --infer`` sets the config.)"""
        config = ServerConfig(port=0, timeout=5.0, workers=1)
        self.server = SparqlServer(MemoryBackend(built, infer=infer),
                                   load_queries(REPO / "queries"), config)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = self.server.url + "sparql"

    def ask(self, query: str) -> tuple[int, str]:
        """(the count the query answers, the X-Kg-Inference header)."""
        url = self.endpoint + "?" + urllib.parse.urlencode({"query": query})
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            data = json.loads(response.read())
            mode = response.headers["X-Kg-Inference"]
        return int(data["results"]["bindings"][0]["n"]["value"]), mode

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


@pytest.fixture(scope="module")
def servers(built: Build) -> Iterator[dict[bool, Running]]:
    running = {on: Running(built, on) for on in (False, True)}
    yield running
    for server in running.values():
        server.stop()


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_kg_serve_answers_with_infer_only(servers: dict[bool, Running],
                                          expected: dict[str, int], name: str) -> None:
    assert servers[False].ask(QUESTIONS[name]) == (0, "off")
    assert servers[True].ask(QUESTIONS[name]) == (expected[name], "on")


def test_kg_serve_says_which_mode_it_runs_in(servers: dict[bool, Running],
                                             inferred: Graph) -> None:
    for on, server in servers.items():
        with urllib.request.urlopen(server.server.url + "health", timeout=TIMEOUT) as r:
            assert json.loads(r.read())["inference"] == ("on" if on else "off")
    assert servers[True].ask(IN_GRAPH) == (len(inferred), "on")
    assert servers[False].ask(IN_GRAPH) == (0, "off")


def test_kg_serve_infer_as_a_real_process(build_dir: Path, tmp_path: Path,
                                         expected: dict[str, int]) -> None:
    import os
    import re
    import signal
    import subprocess
    import sys

    from .test_server import _read_line

    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--port", "0", "--workers", "1", "--infer",
         "--build-dir", str(build_dir)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "KG_QUERIES": str(REPO / "queries")})
    try:
        said = _read_line(proc, TIMEOUT)
        m = re.search(r"SPARQL endpoint (http://127\.0\.0\.1:\d+/sparql)", said)
        assert m and "inference on" in said, said
        url = m.group(1) + "?" + urllib.parse.urlencode({"query": QUESTIONS["P828"]})
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            assert response.headers["X-Kg-Inference"] == "on"
            data = json.loads(response.read())
        assert int(data["results"]["bindings"][0]["n"]["value"]) == expected["P828"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)


def test_kg_serve_infer_needs_inferred_triples(build_dir: Path, tmp_path: Path) -> None:
    old = _build_without_inferred(build_dir, tmp_path)
    code, _, err = invoke("serve", "--port", "0", "--infer", "--build-dir", str(old))
    assert code == 1 and err.count("\n") == 1 and "no inferred triples" in err


def test_the_dataset_merges_the_inferred_graph_and_no_other() -> None:
    """A store with another named graph beside the inferred one (filled by another
    tool): inference on merges only the inferred graph into the default graph; off
    hides only the inferred graph."""
    import pyoxigraph as ox

    from kg.engine import Dataset

    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    for n, graph in enumerate((ox.DefaultGraph(), ox.NamedNode(INFERRED_GRAPH),
                               ox.NamedNode("http://example.org/other"))):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{n}"), p, ox.Literal("o"), graph))
    default = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"
    named = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"

    def ask(dataset: Dataset, text: str) -> list[str]:
        return [solution[0].value for solution in dataset.query(text)]  # type: ignore[union-attr]

    on, off = Dataset(store, infer=True), Dataset(store)
    assert ask(on, default) == ["http://example.org/s0", "http://example.org/s1"]
    assert ask(on, named) == ["http://example.org/other", INFERRED_GRAPH]
    assert ask(off, default) == ["http://example.org/s0"]
    assert ask(off, named) == ["http://example.org/other"]
    with pytest.raises(DataError, match="no graph"):
        Dataset(ox.Store(), infer=True)
