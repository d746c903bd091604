"""The graph page in a classroom (issue 14): readable on a projector at 1024x768, a
population view that isolates, stories, a view kept in the address, PNG and print,
a table of facts for the keyboard, a phone layout. In Debian's Chromium, every
non-file request blocked; one browser for the module."""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import cli
from kg.errors import FactsError
from kg.stats import stats
from kg.stories import STORIES, load_stories, read_story
from kg.subgraph import Selection, select_facts
from kg.viz import build_view, page_data, render

from .conftest import DATA
from .test_viz import MG, Tab, bench

HYPOTHERMIA = "https://w3id.org/health-kg/resource/hypothermia"


@pytest.fixture(scope="module")
def stories() -> list[Any]:
    return load_stories(DATA / STORIES)


@pytest.fixture(scope="module")
def view(graph: Graph, stories: list[Any]) -> Any:
    return build_view(graph, stories=stories, strict_stories=True)


@pytest.fixture(scope="module")
def page(view: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("classroom") / "graph.html"
    path.write_text(render(view), encoding="utf-8")
    return path



@pytest.fixture
def projector(browser: Any) -> Iterator[Tab]:
    t = Tab(browser, width=1024, height=768)
    yield t
    t.close()


def open_at(tab: Tab, path: Path, fragment: str = "") -> Tab:
    tab.page.goto(path.resolve().as_uri() + fragment)
    tab.page.wait_for_selector("html[data-ready=true]", state="attached", timeout=60_000)
    return tab


def population_index(data: dict[str, Any], label: str) -> int:
    return next(i for i, p in enumerate(data["populations"]) if p["label"] == label)


def choose_population(tab: Tab, label: str) -> None:
    index = population_index(tab.js("kg.data"), label)
    tab.page.select_option("#population", str(index))


def page_rule(data: dict[str, Any], pop: int, everyone: bool) -> set[str]:
    """The facts the page draws for population ``pop``, by the rule it states: specific
    facts (and with ``everyone`` those for everyone), and the descriptive facts about
    an entity one of those names."""
    desc = {i for i, r in enumerate(data["relations"]) if r.get("desc")}
    core = [e for e in data["edges"] if e["rel"] not in desc
            and ("for" not in e or pop in e["for"])
            and (pop in e.get("sp", ()) or everyone)]
    ends = {n for e in core for n in (e["from"], e["to"])}
    return {e["id"] for e in core} | {
        e["id"] for e in data["edges"] if e["rel"] in desc and e["from"] in ends
        and ("for" not in e or pop in e["for"])}


# --------------------------------------------------------------------------- data


def test_population_counts_match_kg_stats(graph: Graph, view: Any) -> None:
    counts = stats(graph)["populations"]
    for row in view.data["populations"]:
        assert row["stated"] == counts[row["label"]], row["label"]
    # the page's "N facts" is kg stats' count; a drawn link without evidence is not a fact
    assert view.facts == stats(graph)["facts"]
    assert view.counts().startswith(f"{stats(graph)['entities']} entities, "
                                    f"{stats(graph)['facts']} facts")


def test_the_page_rule_with_everyone_is_kg_export_population(graph: Graph, view: Any) -> None:
    data = view.data
    for name in ("children", "pregnant women"):
        facts, _ = select_facts(graph, Selection(population=name))
        kept = {str(f.statement) if f.statement else f"{f.subject} {f.predicate} {f.object}"
                for f in facts}
        everything = {e["id"] for e in data["edges"]}
        assert kept <= everything
        assert page_rule(data, population_index(data, name), True) == kept


def test_stories_ship_and_resolve(view: Any) -> None:
    titles = {s["title"] for s in view.data["stories"]}
    assert {"Why pregnant women get cramps", "From poor diet to a cramp",
            "What to do during an attack"} <= titles
    ids = {e["id"] for e in view.data["edges"]}
    for story in view.data["stories"]:
        assert story["steps"] and all(step["edges"] and set(step["edges"]) <= ids
                                      for step in story["steps"])


@pytest.mark.parametrize("text,message", [
    ("title: x\nsteps: []\n", r"x\.yaml:2: story: 'steps' must be a non-empty list"),
    ("title: x\nsteps:\n  - text: a\n", r"x\.yaml:3: step 1: 'facts' must be"),
    ("title: x\nstep: []\n", r"x\.yaml:2: story: unknown field 'step'; did you mean 'steps'"),
    ("steps:\n  - {text: a, facts: [b]}\n", r"x\.yaml:1: story: missing required field 'title'"),
    ("title: x\nsteps:\n  - text: a\n    facts: [Not An Id]\n", r"x\.yaml:4: step 1: 'Not An Id'"),
])
def test_a_story_mistake_is_one_line_naming_file_and_line(tmp_path: Path, text: str,
                                                          message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError, match=message):
        read_story(path)


def test_a_story_naming_an_unknown_fact_fails_kg_viz(build_dir: Path, data_copy: Path,
                                                     tmp_path: Path) -> None:
    (data_copy / STORIES / "bad.yaml").write_text(
        "title: Bad\nsteps:\n  - text: one\n    facts: [stretch-during-atack]\n",
        encoding="utf-8")
    result = CliRunner().invoke(cli, ["viz", "--data", str(data_copy), "--build-dir",
                                      str(build_dir), "-o", str(tmp_path / "g.html")])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert re.search(r"bad\.yaml:3: step 1: no fact 'stretch-during-atack' in the graph; "
                     r"did you mean stretch-during-attack", line), line


def test_subgraph_pages_keep_the_whole_graphs_look(build_dir: Path, view: Any) -> None:
    result = CliRunner().invoke(cli, ["viz", "--path", "diuretics", "leg cramp", "-o", "-",
                                      "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    html = result.stdout
    assert "<title>Cramps in the legs: knowledge graph, paths from diuretics to leg cramp" in html
    sub = page_data(html)
    whole = {c["iri"]: (c["label"], c["shape"], c["color"]) for c in view.data["classes"]}
    assert sub["classes"]
    for cls in sub["classes"]:
        assert (cls["label"], cls["shape"], cls["color"]) == whole[cls["iri"]]
    labels = {n["id"]: n["label"] for n in view.data["nodes"]}
    assert all(n["label"] == labels[n["id"]] for n in sub["nodes"])
    result = CliRunner().invoke(cli, ["viz", "--population", "children", "-o", "-",
                                      "--build-dir", str(build_dir)])
    sub = page_data(result.stdout)
    assert {c["label"] for c in sub["classes"]} <= {c["label"] for c in view.data["classes"]}
    assert not any(re.fullmatch(r"[A-Z][a-z]+[A-Z]\w+", c["label"]) for c in sub["classes"])


# --------------------------------------------------------------------------- in a browser


LABELS_ON_SCREEN = """(atLeast) => {
    const s = network.getScale(), r = document.getElementById('graph').getBoundingClientRect();
    let n = 0;
    for (const id of network.body.nodeIndices) {
        const node = network.body.nodes[id], p = network.canvasToDOM({ x: node.x, y: node.y });
        if (p.x < 0 || p.y < 0 || p.x > r.width || p.y > r.height) continue;
        const px = Math.min(node.labelModule.fontOptions.size * s,
                            node.options.scaling.label.maxVisible);
        if (node.labelModule.visible() && px >= (atLeast || 12)) n++;
    }
    return n;
}"""


def test_at_1024x768_labels_are_readable_and_the_header_compact(projector: Tab,
                                                                 page: Path) -> None:
    open_at(projector, page)
    assert projector.js(LABELS_ON_SCREEN) >= 20
    header = projector.page.locator("header").bounding_box()
    assert header and header["height"] <= 768 * 0.08
    # the hub's neighbours are spread in groups by relation, which fold into one node
    assert projector.js("kg.data.groups.length") >= 5
    before = len(projector.shown("nodes"))
    assert projector.js("kg.data.groups[0].kind") == "causes"
    projector.page.uncheck("#group-box-0")
    assert len(projector.shown("nodes")) < before - 20
    assert "group:0" in projector.js("network.body.nodeIndices")
    projector.page.check("#group-box-0")
    assert len(projector.shown("nodes")) == before
    # text size and presentation mode make the labels larger
    large = projector.js(LABELS_ON_SCREEN, 17)
    projector.page.click("#present")
    projector.page.wait_for_timeout(300)
    assert projector.js("document.body.classList.contains('presenting')")
    assert projector.js(LABELS_ON_SCREEN, 17) > max(large, 10)
    projector.page.keyboard.press("+")
    projector.page.wait_for_timeout(300)
    assert projector.js(LABELS_ON_SCREEN) >= 10


def test_choosing_children_draws_only_what_is_specific_to_them(projector: Tab, page: Path,
                                                               view: Any,
                                                               graph: Graph) -> None:
    open_at(projector, page)
    data = view.data
    children = population_index(data, "children")
    option = projector.js(f"document.querySelector('#population option[value=\"{children}\"]')"
                          ".textContent")
    assert option == f"Facts for children ({stats(graph)['populations']['children']} facts)"
    projector.page.select_option("#population", str(children))
    shown = projector.shown("edges")
    assert shown == page_rule(data, children, False)
    desc = {i for i, r in enumerate(data["relations"]) if r.get("desc")}
    for e in data["edges"]:
        if e["id"] in shown and e["rel"] not in desc:
            assert children in e.get("sp", ()), e  # stated for children, or about them
    specific = [e for e in data["edges"] if children in e.get("sp", ())]
    assert {e["id"] for e in specific} <= shown
    assert str(HYPOTHERMIA) in projector.shown("nodes")
    assert "https://w3id.org/health-kg/resource/thyroid-disease" not in projector.shown("nodes")
    # the counts said match what is drawn
    status = projector.page.locator("#status").inner_text()
    stated = sum(1 for e in specific if children in e.get("pop", ()))
    assert f"{stated} facts stated for children" in status
    described = len(shown) - len(specific)
    assert f"{described} describing" in status
    facts = [e for e in data["edges"] if e.get("ev")]  # with evidence: what kg stats counts
    assert len(data["edges"]) - len(facts) == 1  # seizure skos:related leg cramp, drawn
    assert projector.js("document.getElementById('shown').textContent") \
        .endswith(f"{len(shown)} of {len(facts)} facts")
    # facts for everyone: behind a button, then drawn faded
    projector.page.click("#general")
    everyone = projector.shown("edges")
    assert everyone == page_rule(data, children, True) and len(everyone) > len(shown)
    faded = projector.js("kg.data.edges.filter(e => network.body.edges[e.id] && "
                         "String(network.body.edges[e.id].options.color.color)"
                         ".includes('0.2)')).length")
    assert faded == len(everyone - page_rule(data, children, False))
    assert "everyone=1" in projector.js("location.hash")


def test_a_fragment_naming_an_entity_opens_its_panel(projector: Tab, page: Path) -> None:
    open_at(projector, page, "#entity=magnesium-deficiency")
    assert projector.panel_title() == "magnesium deficiency"
    assert projector.page.locator("#panel").is_visible()
    assert projector.js("network.getSelectedNodes()") == [MG]
    # the view is kept in the address as it changes, and restored from it
    projector.js("(id) => kg.showNode(id)", HYPOTHERMIA)
    choose_population(projector, "children")
    fragment = urllib.parse.parse_qs(projector.js("location.hash").lstrip("#"))
    assert fragment == {"entity": ["hypothermia"], "population": ["children"]}
    url = projector.js("location.href")
    other = Tab(projector.context.browser, width=1024, height=768)
    try:
        other.page.goto(url)
        other.page.wait_for_selector("html[data-ready=true]", state="attached")
        assert other.panel_title() == "cold exposure"
        assert other.js("document.getElementById('population').selectedOptions[0].textContent") \
            .startswith("Facts for children")
    finally:
        other.close()


def test_the_panel_shows_the_salience_the_text_gives(projector: Tab, page: Path) -> None:
    # "Basically legs reduces due to a lack of magnesium": the main cause, in the panel
    open_at(projector, page, "#entity=magnesium-deficiency")
    chips = projector.page.locator("#panel .chip").all_text_contents()
    assert "salience: the main cause" in chips
    open_at(projector, page, "#entity=hypothermia")
    assert "salience: a major cause" in projector.page.locator("#panel .chip").all_text_contents()


def test_a_story_steps_through_its_facts(projector: Tab, page: Path, view: Any) -> None:
    open_at(projector, page)
    story = next(s for s in view.data["stories"] if s["id"] == "pregnancy")
    projector.page.select_option("#story", "pregnancy")
    seen = []
    for i, step in enumerate(story["steps"]):
        assert projector.js("document.getElementById('story-step').textContent") \
            == f"step {i + 1} of {len(story['steps'])}"
        assert projector.js("document.getElementById('story-text').textContent") == step["text"]
        assert set(projector.js("network.getSelectedEdges()")) == set(step["edges"])
        panel = [e for e in projector.js(
            "Array.from(document.querySelectorAll('#panel .story-fact')).map(f => f.dataset.edge)")]
        assert panel == step["edges"]
        quotes = projector.page.locator("#panel blockquote.evidence mark").all_inner_texts()
        wanted = {view.data["evidence"][q]["exact"] for e in step["edges"]
                  for q in next(x for x in view.data["edges"] if x["id"] == e)["ev"]}
        assert set(quotes) == wanted
        assert f"story=pregnancy&step={i + 1}" in projector.js("location.hash")
        seen.append(i)
        if i % 2:
            projector.page.keyboard.press("ArrowRight")
        else:
            projector.page.click("#story-next")
    assert seen == list(range(len(story["steps"])))
    projector.page.keyboard.press("ArrowLeft")
    assert projector.js("kg.state.step") == len(story["steps"]) - 2
    # the story's population is chosen with it
    assert projector.js("document.getElementById('population').selectedOptions[0].textContent") \
        .startswith("Facts for pregnant women")
    projector.page.click("#story-end")
    assert projector.page.locator("#story-bar").is_hidden()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF Chromium printed: its Flate streams, each font's ToUnicode map,
    and the glyphs the text operators show (enough for these tests)."""
    streams = []
    for m in re.finditer(rb"stream\r?\n", pdf):
        raw = pdf[m.end():pdf.find(b"endstream", m.end())]
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    cmap: dict[int, str] = {}
    for s in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", s, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                cmap[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", s, re.S):
            for lo, hi, dst in re.findall(
                    rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                    cmap[code] = chr(int(dst, 16) + i)
    out = []
    for s in streams:
        for shown in re.findall(rb"\[([^\]]*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj", s):
            for hexes in re.findall(rb"<([0-9A-Fa-f]*)>", shown[0] or b"<" + shown[1] + b">"):
                h = hexes.decode()
                out.append("".join(cmap.get(int(h[i:i + 4], 16), "?")
                                   for i in range(0, len(h), 4)))
            out.append(" ")
    return "".join(out)


def test_printing_gives_the_panels_text(projector: Tab, page: Path) -> None:
    open_at(projector, page, "#entity=magnesium-deficiency")
    panel = projector.page.locator("#panel-body").inner_text()
    text = squash(pdf_text(projector.page.pdf(format="A4")))
    for line in panel.splitlines():
        if line.strip() and "IRI" not in line:
            assert squash(line) in text, line
    assert squash("Lack of magnesium, calcium and potassium affects convulsions") in text
    assert "Relations" not in text and "Legend" not in text  # the sidebar is not printed


def test_the_png_button_saves_the_view(projector: Tab, page: Path) -> None:
    open_at(projector, page)
    with projector.page.expect_download() as info:
        projector.page.click("#png")
    download = info.value
    assert download.suggested_filename == "graph.png"
    assert Path(download.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_table_reaches_every_fact_by_keyboard(projector: Tab, page: Path,
                                                  view: Any) -> None:
    open_at(projector, page)
    projector.page.click("#view-toggle")
    assert projector.page.locator("#table-view").is_visible()
    assert "view=table" in projector.js("location.hash")
    projector.page.focus("#table-filter")
    projector.page.keyboard.press("Tab")
    reached = []
    for _ in view.data["edges"]:
        reached.append(projector.js("document.activeElement.dataset.edge"))
        projector.page.keyboard.press("ArrowDown")
    assert sorted(reached) == sorted(e["id"] for e in view.data["edges"])
    label = projector.js("document.activeElement.getAttribute('aria-label')")
    assert label and len(label.split()) >= 3
    projector.page.keyboard.press("Enter")
    assert projector.panel_title().endswith(projector.js("document.activeElement.cells[2]"
                                                        ".textContent"))
    # it filters, and follows the population filter
    projector.page.fill("#table-filter", "hypothermia")
    assert projector.js("document.querySelectorAll('#table-body tr').length") == 1
    projector.page.fill("#table-filter", "")
    choose_population(projector, "children")
    assert projector.js("document.querySelectorAll('#table-body tr').length") \
        == len(projector.shown("edges"))


def test_keyboard_skip_links_zoom_and_escape(projector: Tab, page: Path) -> None:
    open_at(projector, page)
    projector.page.keyboard.press("Tab")
    assert projector.js("document.activeElement.textContent") == "Skip to the graph"
    projector.page.keyboard.press("Enter")
    assert projector.js("document.activeElement.id") == "graph"
    scale = projector.js("network.getScale()")
    projector.page.keyboard.press("+")
    projector.page.wait_for_timeout(300)
    assert projector.js("network.getScale()") > scale
    projector.page.keyboard.press("-")
    projector.page.keyboard.press("-")
    projector.page.wait_for_timeout(300)
    assert projector.js("network.getScale()") < scale
    # Escape closes the panel, and leaves the search as it was
    projector.page.fill("#search", "hypomagnesemia")
    projector.page.press("#search", "Enter")
    assert projector.page.locator("#panel").is_visible()
    projector.page.press("#search", "Escape")
    assert projector.page.locator("#panel").is_hidden()
    assert projector.page.input_value("#search") == "hypomagnesemia"


def test_on_a_phone_the_panel_is_a_full_height_sheet(browser: Any, page: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True)
    tab = Tab.__new__(Tab)
    tab.context, tab.page, tab.errors = context, context.new_page(), []
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.attempted = bench.block_network(tab.page)
    try:
        open_at(tab, page)
        assert tab.js("matchMedia('(hover: none)').matches")
        assert tab.js(f"network.body.data.nodes.get({MG!r}).title") is None  # no sticky tooltip
        assert tab.page.locator("#panel").is_hidden()
        tab.js("(id) => kg.showNode(id)", MG)
        box = tab.page.locator("#panel").bounding_box()
        assert box and box["height"] >= 844 - 1 and box["width"] >= 390 - 1
        tab.page.tap("#panel-close")
        assert tab.page.locator("#panel").is_hidden()
    finally:
        tab.close()
