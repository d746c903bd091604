"""Export formats, each read back with the library its users would use."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, URIRef
from rdflib.compare import isomorphic

from kg.cli import cli
from kg.export import CSV_COLUMNS, FORMATS
from kg.network import to_networkx
from kg.subgraph import Selection, select
from kg.vocab import KG, KGR

PATH = ("--path", "diuretics", "leg cramp")
CHILDREN = ("--population", "children")


def run(build_dir: Path, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, ["export", "--build-dir", str(build_dir), *args])
    return result.exit_code, result.stdout_bytes, result.stderr


def expected(graph: Graph, provenance: bool = True, **sel: object) -> Graph:
    return select(graph, Selection(**sel), provenance=provenance)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt,rdf_format", [("ttl", "turtle"), ("nt", "nt"),
                                            ("jsonld", "json-ld")])
def test_rdf_formats_are_isomorphic_to_the_selection(build_dir: Path, graph: Graph,
                                                     fmt: str, rdf_format: str) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", fmt)
    assert code == 0
    got = Graph().parse(data=out, format=rdf_format)
    assert isomorphic(got, expected(graph, path=("diuretics", "leg cramp")))
    assert set(got.subjects(RDF.type, RDF.Statement))
    code, out, _ = run(build_dir, *PATH, "--format", fmt, "--no-provenance")
    bare = Graph().parse(data=out, format=rdf_format)
    assert isomorphic(bare, expected(graph, provenance=False, path=("diuretics", "leg cramp")))
    assert not set(bare.subjects(RDF.type, RDF.Statement))
    assert (KGR["diuretics"], KG.causes, KGR["magnesium-deficiency"]) in bare


def _same_network(read: nx.MultiDiGraph, want: nx.MultiDiGraph) -> None:
    assert set(read.nodes) == set(want.nodes)
    assert sorted((u, v) for u, v in read.edges()) == sorted((u, v) for u, v in want.edges())
    for node, attrs in want.nodes(data=True):
        assert read.nodes[node]["label"] == attrs["label"]
        assert read.nodes[node]["types"] == attrs["types"]


def test_graphml_for_gephi(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "children.graphml"
    code, _, err = run(build_dir, *CHILDREN, "--format", "graphml", "-o", str(target))
    assert code == 0 and "wrote" in err
    read = nx.read_graphml(target, force_multigraph=True)
    want = to_networkx(expected(graph, population="children"))
    _same_network(read, want)
    quotes = [d["quote"] for _, _, d in read.edges(data=True) if d["relation"] == "causes"
              and d.get("population") == "children"]
    assert "A major reason for children's seizures is hypothermia, such cases are very " \
           "common in the winter." in quotes


def test_gexf(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "g.gexf"
    assert run(build_dir, *PATH, "--format", "gexf", "-o", str(target))[0] == 0
    read = nx.read_gexf(target)
    want = to_networkx(expected(graph, path=("diuretics", "leg cramp")))
    assert set(read.nodes) == set(want.nodes)
    assert read.number_of_edges() == want.number_of_edges()


def test_node_link_json(build_dir: Path, graph: Graph) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", "json")
    read = nx.node_link_graph(json.loads(out), edges="edges")
    _same_network(read, to_networkx(expected(graph, path=("diuretics", "leg cramp"))))
    assert all("evidence" in d and "statement" in d for _, _, d in read.edges(data=True))


def test_csv_one_row_per_fact_with_the_quote(build_dir: Path, graph: Graph) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == to_networkx(expected(graph, path=("diuretics", "leg cramp"))
                                    ).number_of_edges()
    diuretic = [r for r in rows if r["subject_label"] == "diuretics"]
    assert {r["object_label"] for r in diuretic} == {"magnesium deficiency",
                                                     "potassium deficiency"}
    assert all(r["quote"] == "the action of diuretics (after pregnancy)" for r in diuretic)
    assert all(r["context"] == "after pregnancy" and r["population"] == "pregnant women"
               for r in diuretic)
    assert all(r["relation_label"] == "causes" for r in rows)


def test_kgx_writes_nodes_and_edges_tsv(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    out_dir = tmp_path / "kgx"
    code, _, err = run(build_dir, *CHILDREN, "--format", "kgx", "-o", str(out_dir))
    assert code == 0 and err.count("wrote") == 2
    with open(out_dir / "nodes.tsv", newline="") as f:
        nodes = {r["id"]: r for r in csv.DictReader(f, delimiter="\t")}
    with open(out_dir / "edges.tsv", newline="") as f:
        edges = list(csv.DictReader(f, delimiter="\t"))
    want = to_networkx(expected(graph, population="children"))
    assert len(nodes) == want.number_of_nodes() and len(edges) == want.number_of_edges()
    assert nodes["kgr:leg-cramp"]["category"] == "biolink:DiseaseOrPhenotypicFeature"
    assert nodes["kgr:pediatrician"]["name"] == "pediatrician"
    cold = next(e for e in edges if e["subject"] == "kgr:hypothermia")
    assert cold["predicate"] == "biolink:causes" and cold["original_predicate"] == "kg:causes"
    assert "population=children" in cold["qualifiers"]
    assert cold["publications"] == "https://w3id.org/health-kg/doc/leg-cramps"
    assert {e["subject"] for e in edges} <= set(nodes) and {e["object"] for e in edges} <= set(
        nodes)


def test_kgx_needs_a_directory(build_dir: Path) -> None:
    code, _, err = run(build_dir, "--format", "kgx")
    assert code == 2 and "give -o DIRECTORY" in err


def test_neighbourhood_to_turtle_file(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "eclampsia.ttl"
    code, _, _ = run(build_dir, "--around", "Eclampsia", "--depth", "1", "-o", str(target))
    assert code == 0
    assert isomorphic(Graph().parse(target), expected(graph, around="Eclampsia"))


def test_misspelt_node_is_a_usage_error_with_suggestions(build_dir: Path) -> None:
    code, out, err = run(build_dir, "--around", "eclampsya")
    assert code == 2 and out == b""
    assert "no entity named 'eclampsya'; closest matches: eclampsia (eclampsia)" in err


def test_every_format_is_in_the_registry_and_exports(build_dir: Path, tmp_path: Path) -> None:
    for name, fmt in FORMATS.items():
        target = tmp_path / (name + ("" if fmt.multi_file else fmt.extension))
        code, _, err = run(build_dir, *PATH, "--format", name, "-o", str(target))
        assert code == 0, (name, err)
        assert target.exists()


def test_query_construct_is_a_starting_point(build_dir: Path, graph: Graph,
                                             tmp_path: Path) -> None:
    """--query runs a CONSTRUCT (named or a file), and the other options select from it."""
    rq = tmp_path / "causes.rq"
    rq.write_text("CONSTRUCT { ?s kg:causes ?o . ?s rdfs:label ?l . ?o rdfs:label ?m }\n"
                  "WHERE { ?s kg:causes ?o . ?s rdfs:label ?l . ?o rdfs:label ?m }\n")
    code, out, _ = run(build_dir, "--query", str(rq), "--format", "nt")
    got = Graph().parse(data=out, format="nt")
    assert set(got.predicates()) == {KG.causes, URIRef("http://www.w3.org/2000/01/rdf-schema#label")}
    assert len(list(got.triples((None, KG.causes, None)))) == len(
        list(graph.triples((None, KG.causes, None))))
    code, out, _ = run(build_dir, "--query", str(rq), "--around", "diuretics", "--format",
                       "csv")
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    assert {r["object_label"] for r in rows} == {"magnesium deficiency", "potassium deficiency"}
    code, _, err = run(build_dir, "--query", "specialists")
    assert code == 2 and "is a SELECT query" in err
    rq.write_text("CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    code, _, err = run(build_dir, "--query", str(rq))
    assert code == 1 and "SERVICE is not allowed" in err


@pytest.mark.parametrize("fmt,output", [("nt", "graph.nt"), ("ttl", "graph.ttl")])
def test_the_whole_graph_exports_as_the_build_wrote_it(build_dir: Path, tmp_path: Path,
                                                       fmt: str, output: str) -> None:
    """One writer for N-Triples and Turtle: an export of the whole graph is the build's
    own file, byte for byte."""
    path = tmp_path / output
    code, _, err = run(build_dir, "--format", fmt, "-o", str(path))
    assert code == 0, err
    assert path.read_bytes() == (build_dir / output).read_bytes()
