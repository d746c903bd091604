"""Time `kg viz` pages in headless Chromium: the seed graph and synthetic large ones
(reported, not asserted).

    .venv/bin/python benchmarks/viz_draw.py [--runs 3] [--nodes 5000 ...]

For each graph: the time to build the page in Python (kg.viz.build_view + render), its
size, and in the browser (Debian's /usr/bin/chromium driven by Playwright, every
non-file request blocked) the time from navigation to vis-network's first drawn frame
(`afterDrawing`; the bounded force-directed layout of a small graph without a hub runs
before it),
to the page being ready (laid out, physics settled, controls wired), and the time of
one redraw after a zoom and of one population-filter change (until the next frame), as
a measure of whether the page stays usable.

This module also holds what the browser tests share with it: the Chromium launch
settings and `synthetic_graph`, a deterministic kg-shaped graph of any size.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright
    from rdflib import Graph

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: Headless, and quiet: without the background-networking flags Chromium tries to
#: reach Google's hosts at start-up (refused on a closed network).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--mute-audio"]

KG = "https://w3id.org/health-kg/ontology#"
KGR = "https://w3id.org/health-kg/resource/"
KGD = "https://w3id.org/health-kg/doc/"
_CLASSES = ["Condition", "Disease", "SignOrSymptom", "NutrientDeficiency", "LifestyleFactor",
            "PhysicalFactor", "Nutrient", "Medication", "AnatomicalStructure", "Treatment",
            "FirstAid", "Specialist"]
_RELATIONS = ["causes", "hasSymptom", "hasTreatment", "associatedAnatomy", "hasSpecialist",
              "hasRiskFactor", "indicates", "hasFirstAid"]
_WORDS = ("acute chronic muscle nerve calf foot night cramp spasm deficiency vitamin mineral "
          "blood pressure kidney thyroid heart fatigue stress cold warm massage stretch rest "
          "diet water salt sugar sleep posture growth").split()


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)


def block_network(page: Page) -> list[str]:
    """Abort every request that is not for a file: URL; return the list they go to."""
    attempted: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return attempted


def open_page(page: Page, path: Path, timeout_ms: float = 120_000) -> None:
    """Open a kg viz page and wait until it says it is ready (drawn and laid out).

    Waits for <html data-ready="true">: the page's Content-Security-Policy forbids the
    string evaluation that Playwright's wait_for_function would need."""
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-ready=true]", state="attached", timeout=timeout_ms)


def synthetic_graph(nodes: int, facts_per_node: float = 2.0, seed: int = 1,
                    provenance: bool = True) -> Graph:
    """A deterministic kg-shaped graph: ``nodes`` typed, labelled entities (a few hubs,
    a long tail), ``facts_per_node`` facts each on average, and with ``provenance`` a
    statement, qualifiers and a quoted evidence sentence per fact, like ``kg build``'s.
    kg's ontology is included, so classes have their labels and hierarchy."""
    from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
    from rdflib.namespace import DCTERMS, PROV, SKOS

    from kg.vocab import OA, bind_prefixes

    rng = random.Random(seed)
    g = bind_prefixes(Graph())
    g.parse(REPO / "data" / "ontology.ttl", format="turtle")
    doc = URIRef(KGD + "synthetic")
    g.add((doc, RDF.type, URIRef(KG + "Document")))
    g.add((doc, DCTERMS.title, Literal("A synthetic corpus", lang="en")))
    pops = [URIRef(KGR + p) for p in ("children", "pregnant-women", "older-people")]
    for p in pops:
        g.add((p, RDF.type, URIRef(KG + "Population")))
        g.add((p, RDFS.label, Literal(p.split("/")[-1].replace("-", " "), lang="en")))
    ents = [URIRef(f"{KGR}e{i}") for i in range(nodes - len(pops))]
    for i, e in enumerate(ents):
        words = " ".join(rng.sample(_WORDS, 2))
        g.add((e, RDF.type, URIRef(KG + _CLASSES[min(i, rng.randrange(len(_CLASSES)))])))
        g.add((e, RDFS.label, Literal(f"{words} {i}", lang="en")))
        if i % 7 == 0:
            g.add((e, SKOS.altLabel, Literal(f"{words} alias {i}", lang="en")))
    total = int(nodes * facts_per_node)
    for n in range(total):
        i = rng.randrange(1, len(ents))
        j = int(i * rng.random() ** 3)  # towards the early nodes: hubs and a long tail
        s, o, p = ents[i], ents[j], URIRef(KG + rng.choice(_RELATIONS))
        g.add((s, p, o))
        if not provenance:
            continue
        st = URIRef(f"{KGD}synthetic/fact/f{n}")
        ev = URIRef(f"{st}/evidence/1")
        sel, pos = URIRef(f"{ev}/quote"), URIRef(f"{ev}/position")
        for triple in ((st, RDF.type, RDF.Statement), (st, RDF.subject, s),
                       (st, RDF.predicate, p), (st, RDF.object, o),
                       (st, DCTERMS.identifier, Literal(f"f{n}")),
                       (st, PROV.wasDerivedFrom, ev), (ev, RDF.type, URIRef(KG + "Evidence")),
                       (ev, OA.hasSource, doc), (ev, OA.hasSelector, sel),
                       (ev, OA.hasSelector, pos),
                       (sel, RDF.type, OA.TextQuoteSelector),
                       (sel, OA.exact, Literal(f"{g.value(s, RDFS.label)} affects "
                                               f"{g.value(o, RDFS.label)}")),
                       (sel, OA.prefix, Literal(f"In sentence {n}, ")),
                       (sel, OA.suffix, Literal(", the text says.")),
                       (pos, RDF.type, OA.TextPositionSelector),
                       (pos, OA.start, Literal(n * 80, datatype=XSD.integer)),
                       (pos, OA.end, Literal(n * 80 + 60, datatype=XSD.integer))):
            g.add(triple)
        if n % 10 == 0:
            g.add((st, URIRef(KG + "population"), pops[n % len(pops)]))
    return g


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def measure(page: Page, path: Path) -> dict[str, float]:
    """One load of ``path``: first draw, ready, one zoom redraw, one filter change (ms)."""
    open_page(page, path)
    first, ready = page.evaluate("[window.kg.firstDrawMs, window.kg.readyMs]")
    redraw = page.evaluate("""() => new Promise((done) => {
        const t = performance.now();
        network.once("afterDrawing", () => done(performance.now() - t));
        network.moveTo({ scale: network.getScale() * 1.5 });
    })""")
    select = page.locator("#population")
    values = [v for v in select.evaluate("s => Array.from(s.options).map(o => o.value)") if v]
    filter_ms = float("nan")
    if values:
        t = time.perf_counter()
        select.select_option(values[0])
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(0)))")
        filter_ms = (time.perf_counter() - t) * 1000
    return {"first draw": first, "ready": ready, "redraw after zoom": redraw,
            "population filter": filter_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, nargs="*", default=[5000])
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    import kg
    from kg.viz import build_view, render

    graphs: list[tuple[str, Graph]] = []
    with tempfile.TemporaryDirectory() as tmp:
        kg.build_graph(REPO / "data", Path(tmp) / "build")
        graphs.append(("seed graph", kg.load(Path(tmp) / "build").graph))
    for n in args.nodes:
        graphs.append((f"synthetic {n:,}", synthetic_graph(n)))

    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    print(f"# {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {version.strip()}, {args.runs} runs, median")
    print(f"# {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = launch(pw)
        for name, graph in graphs:
            t0 = time.perf_counter()
            view = build_view(graph, max_nodes=None)
            html = render(view)
            py_s = time.perf_counter() - t0
            path = Path(tmp) / "page.html"
            path.write_text(html, encoding="utf-8")
            rows: dict[str, list[float]] = {}
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                attempted = block_network(page)
                for key, value in measure(page, path).items():
                    rows.setdefault(key, []).append(value)
                page.close()
                if attempted:
                    raise SystemExit(f"the page tried to fetch {attempted}")
            print(f"\n{name}: {view.nodes:,} entities, {view.edges:,} facts, "
                  f"page {len(html.encode()) / 1e6:.1f} MB, built in {py_s:.2f} s")
            for key, values in rows.items():
                print(f"  {key:<20} {_median(values):8.0f} ms")
        browser.close()


if __name__ == "__main__":
    main()
