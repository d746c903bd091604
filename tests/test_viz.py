"""kg.viz and 'kg viz': the page's data, its self-containment and safety, the command,
and the page itself in a real browser (Debian's Chromium driven by Playwright, every
non-file request blocked)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.cli import cli
from kg.errors import DataError
from kg.network import to_networkx
from kg.subgraph import Selection, select, select_facts
from kg.viz import build_view, layout, page_data, read_graph, render, render_html
from kg.vocab import KG, KGD, KGR, OA

from .conftest import REPO, viz_benchmark

bench = viz_benchmark()
MG = str(KGR["magnesium-deficiency"])
PAYLOADS = ("<img src=x onerror=window.__pwned=1>", "</script><script>window.__pwned=1</script>")


@pytest.fixture(scope="module")
def view(graph: Graph) -> Any:
    return build_view(graph)


@pytest.fixture(scope="module")
def seed_page(view: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("viz") / "graph.html"
    path.write_text(render(view), encoding="utf-8")
    return path


def hostile_graph() -> Graph:
    """Two entities and one fact whose every text is an HTML or script payload."""
    img, script = PAYLOADS
    g = Graph()
    a, b, pop = KGR["hostile-a"], KGR["hostile-b"], KGR["hostile-pop"]
    st = URIRef(f"{KGD}hostile/fact/one")
    ev, sel = URIRef(f"{st}/evidence/1"), URIRef(f"{st}/evidence/1/quote")
    doc = KGD["hostile"]
    for triple in [
        (a, RDF.type, KG.Condition), (a, RDFS.label, Literal(img)),
        (a, SKOS.altLabel, Literal(script)), (a, SKOS.definition, Literal(script + img)),
        (a, SKOS.exactMatch, URIRef("javascript:window.__pwned=1")),
        (b, RDF.type, KG.SignOrSymptom), (b, RDFS.label, Literal(script)),
        (pop, RDF.type, KG.Population), (pop, RDFS.label, Literal(img)),
        (a, KG.hasSymptom, b),
        (st, RDF.type, RDF.Statement), (st, RDF.subject, a), (st, RDF.predicate, KG.hasSymptom),
        (st, RDF.object, b), (st, KG.population, pop), (st, SKOS.editorialNote, Literal(img)),
        (st, PROV.wasDerivedFrom, ev), (ev, RDF.type, KG.Evidence), (ev, OA.hasSource, doc),
        (ev, OA.hasSelector, sel), (sel, RDF.type, OA.TextQuoteSelector),
        (sel, OA.prefix, Literal(img)), (sel, OA.exact, Literal(script)),
        (sel, OA.suffix, Literal(img)),
        (doc, RDF.type, KG.Document), (doc, DCTERMS.title, Literal(script)),
    ]:
        g.add(triple)
    return g


# --------------------------------------------------------------------------- the data


def test_the_view_draws_every_entity_and_fact(graph: Graph, view: Any) -> None:
    g = to_networkx(graph)
    assert (view.nodes, view.edges) == (g.number_of_nodes(), g.number_of_edges())
    assert not view.truncated and not view.warnings
    data = view.data
    assert {n["id"] for n in data["nodes"]} == set(g.nodes)
    assert {e["id"] for e in data["edges"]} == {k for _, _, k in g.edges(keys=True)}
    mg = next(n for n in data["nodes"] if n["id"] == MG)
    assert mg["label"] == "magnesium deficiency"
    assert "Hypomagnesemia" in mg["alt"]
    assert data["classes"][mg["types"][0]]["label"] == "nutrient deficiency"
    assert all(math.isfinite(n["x"]) and math.isfinite(n["y"]) for n in data["nodes"])


def test_every_fact_carries_its_evidence_in_its_sentence(view: Any, source_text: str) -> None:
    data = view.data
    facts = [e for e in data["edges"] if "fact" in e]
    assert facts and all(e["ev"] for e in facts)
    for row in data["evidence"]:
        assert source_text[row["start"]:row["end"]] == row["exact"]
        assert source_text[row["start"] - len(row["prefix"]):row["end"] + len(row["suffix"])] \
            == row["prefix"] + row["exact"] + row["suffix"]
        assert row["source"] == "Cramps in the legs"


def test_relation_kinds_and_classes_have_friendly_names(view: Any) -> None:
    kinds = [k["label"] for k in view.data["kinds"]]
    for kind in ("causes", "symptoms and signs", "treatments", "first aid", "specialists",
                 "anatomy"):
        assert kind in kinds
    assert kinds.index("causes") < kinds.index("anatomy")  # the order RELATION_KINDS gives
    relations = {r["label"] for r in view.data["relations"]}
    assert {"causes", "has symptom", "has first aid"} <= relations
    families = {f["label"] for f in view.data["families"]}
    assert {"health problem", "intervention", "population"} <= families
    # a class and its family share a hue; classes of one family differ in shape
    shapes = [(c["family"], c["shape"]) for c in view.data["classes"]]
    assert len(shapes) == len(set(shapes))


def test_population_filter_follows_kg_export_population(graph: Graph, view: Any) -> None:
    """A fact concerns a population in the page exactly when 'kg export --population'
    keeps it (a descriptive fact, such as anatomy, only for an entity another names)."""
    data = view.data
    options = {p["label"]: i for i, p in enumerate(data["populations"]) if p["option"]}
    assert {"children", "pregnant women"} <= set(options)
    assert "people of all ages" not in options  # a general population concerns everyone
    desc = {i for i, r in enumerate(data["relations"]) if r.get("desc")}
    assert {data["relations"][i]["label"] for i in desc} >= {"associated anatomy", "subtype of"}
    for name, index in options.items():
        facts, _ = select_facts(graph, Selection(population=name))
        kept = {str(f.statement) if f.statement else f"{f.subject} {f.predicate} {f.object}"
                for f in facts}
        concerned = {e["id"] for e in data["edges"] if "for" not in e or index in e["for"]}
        core = {e["id"] for e in data["edges"] if e["rel"] not in desc}
        assert concerned & core == kept & core, name
        assert kept - core <= concerned, name
        # specific: stated for the population, or naming it
        for e in data["edges"]:
            if index in e.get("sp", ()):
                assert index in e.get("pop", ()) or str(KGR[name.replace(" ", "-")]) in (
                    e["from"], e["to"]), e
    children = options["children"]
    pregnancy_only = [e for e in data["edges"] if "for" in e and children not in e["for"]
                      and e.get("pop") == [options["pregnant women"]]]
    assert len(pregnancy_only) >= 10


def test_max_nodes_keeps_the_most_connected(graph: Graph) -> None:
    small = build_view(graph, max_nodes=10)
    assert small.nodes == 10 and small.total_nodes > 10 and small.truncated
    assert small.warnings == (f"showing the 10 most connected of {small.total_nodes} "
                              "entities (--max-nodes)",)
    ids = {n["id"] for n in small.data["nodes"]}
    assert str(KGR["leg-cramp"]) in ids and MG in ids
    assert all(e["from"] in ids and e["to"] in ids for e in small.data["edges"])
    assert build_view(graph, max_nodes=0).nodes == small.total_nodes


def test_layout_is_deterministic_and_spreads_the_nodes() -> None:
    g = to_networkx(bench.synthetic_graph(600, provenance=False))
    first, second = layout(g), layout(g)
    assert first == second and set(first) == set(g.nodes)
    distinct = {(round(x), round(y)) for x, y in first.values()}
    assert len(distinct) == len(first)


def test_the_hubs_neighbours_are_grouped_by_relation(graph: Graph, view: Any) -> None:
    """Around leg cramp, each kind of relation has a sector of its own (and a group the
    page can fold into one node)."""
    groups = view.data["groups"]
    hub = str(KGR["leg-cramp"])
    assert groups and all(g["hub"] == hub for g in groups)
    kinds = [g["kind"] for g in groups]
    assert kinds[0] == "causes" and {"treatments", "first aid", "specialists"} <= set(kinds)
    members = [m for g in groups for m in g["members"]]
    assert len(members) == len(set(members))
    positions = {n["id"]: (n["x"], n["y"]) for n in view.data["nodes"]}
    cx, cy = positions[hub]
    angle = {m: math.atan2(positions[m][1] - cy, positions[m][0] - cx) % (2 * math.pi)
             for m in members}
    spans = [(min(angle[m] for m in g["members"]), max(angle[m] for m in g["members"]))
             for g in groups]
    for (lo, hi), (next_lo, _) in zip(spans, spans[1:], strict=False):
        assert lo <= hi < next_lo  # sectors in order, none inside another
    assert view.data["layout"]["settle"] is False  # kg's layout is the one drawn


def test_cross_references_are_listed_not_drawn() -> None:
    g = hostile_graph()
    v = build_view(g)
    assert v.nodes == 3 and v.edges == 1  # the javascript: IRI is no node
    [a] = [n for n in v.data["nodes"] if n["id"] == str(KGR["hostile-a"])]
    assert a["xrefs"] == [{"rel": "exact match", "iri": "javascript:window.__pwned=1"}]


# --------------------------------------------------------------------------- the file


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_page_is_one_file_that_fetches_nothing(seed_page: Path) -> None:
    html = seed_page.read_text(encoding="utf-8")
    parser = _Elements()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert "link" not in tags and "img" not in tags and "iframe" not in tags
    for tag, attrs in parser.tags:
        assert "src" not in attrs, tag
        assert (attrs.get("href") or "#").startswith("#"), tag  # skip links only
    assert "sourceMappingURL" not in html
    [csp] = [a["content"] for t, a in parser.tags
             if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None
    for directive in ("default-src 'none'", "connect-src 'none'", "base-uri 'none'"):
        assert directive in csp
    # the CSP lets exactly the page's two scripts run
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 2
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert tags.count("script") == 3  # and the graph, as JSON data


def test_the_embedded_data_round_trips(view: Any, seed_page: Path) -> None:
    data = page_data(seed_page.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(view.data))


def test_hostile_text_never_reaches_the_html_as_markup() -> None:
    html = render_html(hostile_graph(), title=PAYLOADS[0])
    head = html[:html.index("<style>")]
    assert "<title>&lt;img src=x onerror=window.__pwned=1&gt;</title>" in head
    parser = _Elements()
    parser.feed(html)
    assert [t for t, _ in parser.tags if t in ("img", "script")] == ["script"] * 3
    assert html.count("</script>") == 3 and "<img" not in html
    data = page_data(html)
    assert {n["label"] for n in data["nodes"]} >= set(PAYLOADS)
    assert data["evidence"][0] == {"prefix": PAYLOADS[0], "exact": PAYLOADS[1],
                                   "suffix": PAYLOADS[0], "start": None, "end": None,
                                   "source": PAYLOADS[1]}


# --------------------------------------------------------------------------- reading RDF


def test_read_graph_guesses_the_syntax(graph: Graph, tmp_path: Path) -> None:
    small = select(graph, Selection(around="eclampsia"))
    for name, fmt in (("g.ttl", "turtle"), ("g.nt", "nt"), ("g.jsonld", "json-ld"),
                      ("noext", "json-ld"), ("g.rdf", "xml")):
        path = tmp_path / name
        path.write_bytes(small.serialize(format=fmt, encoding="utf-8"))
        assert len(read_graph(path)) == len(small), name


def test_read_graph_errors_name_the_input(tmp_path: Path) -> None:
    from kg.errors import DataError

    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix x: <", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.ttl: not valid Turtle"):
        read_graph(bad)
    with pytest.raises(DataError, match=r"missing\.ttl: no such file"):
        read_graph(tmp_path / "missing.ttl")


# --------------------------------------------------------------------------- the command


def invoke(*args: str, input: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_kg_viz_writes_the_page_into_the_build_directory(build_dir: Path, tmp_path: Path,
                                                         view: Any) -> None:
    out = tmp_path / "b"
    out.mkdir()
    for name in ("graph.nt", "manifest.json"):
        (out / name).write_bytes((build_dir / name).read_bytes())
    code, stdout, err = invoke("viz", "--build-dir", str(out))
    assert code == 0 and stdout == b""
    assert err.strip().endswith(f"graph.html ({view.counts()})")
    assert page_data((out / "graph.html").read_text(encoding="utf-8"))["counts"]["nodes"] \
        == view.nodes


def test_kg_export_piped_into_kg_viz(build_dir: Path) -> None:
    code, ttl, _ = invoke("export", "--population", "children", "--build-dir", str(build_dir))
    assert code == 0
    code, html, err = invoke("viz", "--input", "-", "-o", "-", "--title", "Children",
                             "--build-dir", str(build_dir), input=ttl)
    assert code == 0, err
    data = page_data(html.decode("utf-8"))
    assert "<title>Children</title>" in html.decode("utf-8")
    assert 0 < data["counts"]["nodes"] < 114
    assert str(KGR["children"]) in {n["id"] for n in data["nodes"]}


def test_kg_viz_selection_options(build_dir: Path) -> None:
    code, html, _ = invoke("viz", "--around", "eclampsia", "-o", "-",
                           "--build-dir", str(build_dir))
    assert code == 0
    ids = {n["id"] for n in page_data(html.decode("utf-8"))["nodes"]}
    assert str(KGR["eclampsia"]) in ids and len(ids) < 20


def test_kg_viz_max_nodes_warns(build_dir: Path) -> None:
    code, html, err = invoke("viz", "--max-nodes", "5", "-o", "-", "--build-dir", str(build_dir))
    assert code == 0 and page_data(html.decode("utf-8"))["counts"]["nodes"] == 5
    assert "Warning: showing the 5 most connected of" in err


@pytest.mark.parametrize("args,input,message", [
    (["--input", "-"], b"@prefix x: <", "Error: <stdin>: not valid Turtle"),
    (["--input", "-", "--format", "jsonld"], b"{not json", "Error: <stdin>: not valid JSON-LD"),
    (["--input", "no/such.ttl"], None, "Error: no/such.ttl: no such file"),
])
def test_bad_input_is_one_line_and_exit_1(args: list[str], input: bytes | None, message: str,
                                          tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["viz", *args, "-o", str(tmp_path / "x.html")],
                                input=input)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(message)
    assert not (tmp_path / "x.html").exists()


def test_output_into_a_missing_directory_is_a_usage_error(build_dir: Path,
                                                          tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["viz", "-o", str(tmp_path / "no" / "g.html"),
                                      "--build-dir", str(build_dir)])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_the_installed_wheel_ships_the_templates(tmp_path: Path) -> None:
    """The page renders from an unpacked wheel, outside the repository."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheel_dir), str(REPO)], check=True, capture_output=True)
    [wheel] = wheel_dir.glob("kg-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        assert {"kg/templates/viz.html", "kg/templates/viz.js", "kg/templates/viz.css",
                "kg/stories.py", "kg/_data/stories/pregnancy.yaml"} <= set(zf.namelist())
        zf.extractall(site)
    code = ("import kg, rdflib; from kg.viz import render_html; "
            "from kg.paths import default_data_dir; from kg.stories import load_stories; "
            "print(kg.__file__); print(len(render_html(rdflib.Graph()))); "
            "print(len(load_stories(default_data_dir() / 'stories')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={"PYTHONPATH": str(site), "PATH": ""}, check=True)
    kg_file, size, stories = out.stdout.split()
    assert kg_file.startswith(str(site)) and int(size) > 100_000
    assert int(stories) >= 3  # the stories ship with the data


# --------------------------------------------------------------------------- in a browser


class Tab:
    """A page with every non-file request blocked, and its console errors recorded."""

    def __init__(self, browser: Any, width: int = 1400, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.attempted = bench.block_network(self.page)

    def open(self, path: Path) -> Tab:
        bench.open_page(self.page, path)
        return self

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def shown(self, what: str) -> set[str]:
        return set(self.js(f"network.body.data.{what}.getIds()"))

    def centre_on(self, node: str) -> tuple[float, float]:
        """Put ``node`` in the middle of the canvas; its position on the screen."""
        return tuple(self.js("""(id) => {
            network.moveTo({ position: network.getPosition(id), scale: 1.2, animation: false });
            const p = network.canvasToDOM(network.getPosition(id));
            const r = document.getElementById("graph").getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""", node))  # type: ignore[return-value]

    def panel_title(self) -> str:
        return str(self.js("document.getElementById('panel-title').textContent"))

    def close(self) -> None:
        """Check the page stayed clean: no console error, no request attempted."""
        self.context.close()
        assert self.errors == []
        assert self.attempted == []


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    t = Tab(browser)
    yield t
    t.close()


def test_the_page_draws_the_whole_seed_graph(tab: Tab, seed_page: Path, graph: Graph) -> None:
    tab.open(seed_page)
    g = to_networkx(graph)
    assert tab.js("[network.body.data.nodes.length, network.body.data.edges.length]") \
        == [g.number_of_nodes(), g.number_of_edges()]
    assert tab.shown("nodes") == set(g.nodes)
    assert tab.js("typeof network.getPositions === 'function' && kg.firstDrawMs > 0")
    # laid out: physics has settled and is off, every node is on the canvas
    assert tab.js("network.physics.options.enabled") is False
    classes = [c for c in tab.js("kg.data.classes") if c["count"]]
    assert tab.js("document.querySelectorAll('#legend .legend-item').length") == len(classes)


def test_clicking_a_node_shows_its_evidence(tab: Tab, seed_page: Path, view: Any) -> None:
    tab.open(seed_page)
    x, y = tab.centre_on(MG)
    tab.page.mouse.click(x, y)
    assert tab.js("network.getSelectedNodes()") == [MG]
    assert tab.panel_title() == "magnesium deficiency"
    panel = tab.page.locator("#panel")
    assert panel.is_visible()
    text = panel.inner_text()
    assert "Hypomagnesemia" in text and "ICD10:E61.2" in text
    # every fact of the node, each with its sentence and the quote highlighted in it
    mine = [e for e in view.data["edges"] if MG in (e["from"], e["to"])]
    assert tab.js("document.querySelectorAll('#panel .fact').length") == len(mine)
    quotes = tab.js("""Array.from(document.querySelectorAll('#panel blockquote.evidence'))
                       .map(q => [q.textContent, q.querySelector('mark').textContent])""")
    expected = {(r["prefix"] + r["exact"] + r["suffix"], r["exact"])
                for e in mine for r in (view.data["evidence"][i] for i in e["ev"])}
    assert {tuple(q) for q in quotes} == expected
    assert "Lack of magnesium, calcium and potassium affects convulsions" in text


def test_clicking_a_fact_shows_it(tab: Tab, seed_page: Path, view: Any) -> None:
    tab.open(seed_page)
    edge = next(e for e in view.data["edges"] if e.get("note"))
    tab.js("(id) => kg.showEdge(id)", edge["id"])
    assert edge["note"] in tab.page.locator("#panel").inner_text()


def test_the_population_filter_hides_what_it_should(tab: Tab, seed_page: Path,
                                                    view: Any) -> None:
    tab.open(seed_page)
    data = view.data
    children = next(i for i, p in enumerate(data["populations"]) if p["label"] == "children")
    pregnant = next(i for i, p in enumerate(data["populations"])
                    if p["label"] == "pregnant women")
    tab.page.select_option("#population", str(pregnant))
    shown = tab.shown("edges")
    # what is specific to pregnant women, not what holds for everyone or for children
    assert {e["id"] for e in data["edges"] if pregnant in e.get("pop", ())} <= shown
    assert not {e["id"] for e in data["edges"] if e.get("pop") == [children]} & shown
    general = {e["id"] for e in data["edges"] if "pop" not in e and "sp" not in e
               and ("for" not in e or pregnant in e["for"])
               and not data["relations"][e["rel"]].get("desc")}
    assert general and not general & shown
    # an entity with no fact left goes too; the counts say so
    ends = {n for e in data["edges"] if e["id"] in shown for n in (e["from"], e["to"])}
    assert tab.shown("nodes") - ends <= {n["id"] for n in data["nodes"] if n["deg"] == 0}
    assert str(KGR["hypothermia"]) not in tab.shown("nodes")
    assert tab.js("document.getElementById('shown').textContent").startswith("showing ")
    # facts for everyone, on request
    tab.page.click("#general")
    assert general <= tab.shown("edges")
    tab.page.select_option("#population", "")
    assert len(tab.shown("edges")) == len(data["edges"])


def test_the_relation_filter(tab: Tab, seed_page: Path, view: Any) -> None:
    tab.open(seed_page)
    tab.page.get_by_label("causes", exact=False).first.uncheck()
    rel = {i for i, r in enumerate(view.data["relations"]) if r["kind"] == "causes"}
    assert not any(e["rel"] in rel for e in view.data["edges"] if e["id"] in tab.shown("edges"))
    tab.page.click("#kinds-none")
    assert tab.shown("edges") == set()
    tab.page.click("#kinds-all")
    assert len(tab.shown("edges")) == len(view.data["edges"])


def test_search_focuses_a_node(tab: Tab, seed_page: Path) -> None:
    tab.open(seed_page)
    tab.page.fill("#search", "hypomagnesemia")  # an alternative label, any case
    tab.page.press("#search", "Enter")
    assert tab.js("network.getSelectedNodes()") == [MG]
    assert tab.panel_title() == "magnesium deficiency"
    for _ in range(50):  # the view glides to the node
        gap = tab.js("""(id) => { const v = network.getViewPosition(), p = network.getPosition(id);
                                  return Math.hypot(v.x - p.x, v.y - p.y); }""", MG)
        if gap < 1:
            break
        tab.page.wait_for_timeout(50)
    assert gap < 1
    tab.page.fill("#search", "no such thing")
    tab.page.press("#search", "Enter")
    assert "No entity is called" in tab.page.locator("#status").inner_text()


def test_physics_toggle_and_reset_view(tab: Tab, seed_page: Path) -> None:
    tab.open(seed_page)
    tab.page.check("#physics")
    assert tab.js("network.physics.options.enabled") is True
    tab.page.uncheck("#physics")
    assert tab.js("network.physics.options.enabled") is False
    tab.centre_on(MG)
    tab.js("(id) => network.selectNodes([id])", MG)
    tab.page.click("#reset")
    tab.page.wait_for_timeout(700)
    assert tab.js("network.getSelectedNodes()") == []
    assert tab.js("network.getScale()") < 1.0
    assert tab.panel_title() == "How to read this graph"


def test_narrow_screens_put_the_panel_under_the_graph(browser: Any, seed_page: Path) -> None:
    t = Tab(browser, width=800, height=1000)
    try:
        t.open(seed_page)
        t.js("(id) => kg.showNode(id)", MG)
        graph_box = t.page.locator("#graph-wrap").bounding_box()
        panel_box = t.page.locator("#panel").bounding_box()
        assert graph_box and panel_box
        assert panel_box["y"] >= graph_box["y"] + graph_box["height"] - 1
        assert panel_box["width"] > 700
    finally:
        t.close()


def test_hostile_labels_stay_inert(tab: Tab, tmp_path: Path) -> None:
    path = tmp_path / "hostile.html"
    path.write_text(render_html(hostile_graph(), title=PAYLOADS[0]), encoding="utf-8")
    tab.open(path)
    img, script = PAYLOADS
    a = str(KGR["hostile-a"])
    assert tab.js("document.title") == img
    # the tooltip shows the label as text
    x, y = tab.centre_on(a)
    tab.page.mouse.move(x, y)
    tooltip = tab.page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible")
    assert tooltip.inner_text().splitlines()[0] == img
    assert tooltip.locator(":not(br)").count() == 0  # text, and the line breaks of \n
    # the panel shows labels, names, notes, quotes and links as text
    tab.page.mouse.click(x, y)
    assert tab.panel_title() == img
    panel = tab.page.locator("#panel").inner_text()
    for text in (script, script + img, img + script + img, "javascript:window.__pwned=1"):
        assert text in panel, text
    assert tab.js("document.querySelectorAll('#panel a').length") == 0  # no javascript: link
    tab.js("(id) => kg.showEdge(id)", next(iter(tab.shown("edges"))))
    assert img in tab.page.locator("#panel").inner_text()
    tab.page.select_option("#population", index=1)
    assert tab.js("document.querySelector('#population').selectedOptions[0].textContent") \
        .startswith("Facts for " + img)
    assert tab.js("window.__pwned") is None
    assert tab.js("document.querySelectorAll('img').length") == 0
    assert tab.js("document.scripts.length") == 3


def test_a_5000_node_graph_opens_and_stays_usable(tab: Tab, tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    view = build_view(bench.synthetic_graph(5000, provenance=False), max_nodes=None)
    assert view.data["layout"]["physics"] is False  # laid out here, not in the browser
    path.write_text(render(view), encoding="utf-8")
    tab.page.set_default_timeout(60_000)
    tab.open(path)
    assert tab.js("network.body.data.nodes.length") == 5000
    assert tab.js("kg.firstDrawMs") < 30_000
    tab.page.fill("#search", "e4321")
    tab.page.press("#search", "Enter")
    assert tab.js("network.getSelectedNodes()") == [str(KGR["e4321"])]


def test_jsonld_input_with_a_remote_context_is_refused(tmp_path: Path) -> None:
    """rdflib would fetch the context over the network; kg refuses instead."""
    path = tmp_path / "remote.jsonld"
    path.write_text('{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://x/a",'
                    ' "http://x/p": "v"}')
    with pytest.raises(DataError, match="remote JSON-LD context 'http://127.0.0.1:9/"):
        read_graph(path)
    path.write_text('{"@context": [{"@import": "http://127.0.0.1:9/c"}], "@id": "http://x/a"}')
    with pytest.raises(DataError, match="remote JSON-LD context"):
        read_graph(path)
    path.write_text('{"@context": {"p": "http://x/p"}, "@id": "http://x/a", "p": "v"}')
    assert len(read_graph(path)) == 1
