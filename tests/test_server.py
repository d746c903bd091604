"""The SPARQL endpoint, tested against the real thing: a server on a free loopback port
(in a thread, and once as a real 'kg serve' process), a real client (SPARQLWrapper) and
raw HTTP. Every request has a timeout; every process started is stopped."""

from __future__ import annotations

import base64
import csv
import hashlib
import http.client
import io
import json
import logging
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.dom.minidom import Document

import pytest
from rdflib import Graph, Variable
from rdflib.compare import isomorphic
from rdflib.query import Result
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper

from kg.errors import KgError
from kg.protocol import GRAPH_MEDIA_TYPES, RESULT_MEDIA_TYPES, negotiate
from kg.queries import MAX_QUERY_BYTES, load_queries, run
from kg.server import ServerConfig, SparqlServer
from kg.store import Build, MemoryBackend

from .conftest import REPO, children, need_system_tool
from .test_queries import Listener

TIMEOUT = 10  # seconds, for every request a test makes
NAMED = load_queries(REPO / "queries")
LABELS = ("SELECT ?entity ?label WHERE { ?entity a kg:Specialist ; rdfs:label ?label } "
          "ORDER BY ?label")
SPECIALISTS = ["endocrinologist", "general practitioner", "neurologist", "pediatrician",
               "phlebologist"]
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


class Running:
    """A SparqlServer serving in a thread."""

    def __init__(self, built: Build, config: ServerConfig) -> None:
        self.server = SparqlServer(MemoryBackend(built), NAMED, config)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = self.server.url
        self.endpoint = self.url + "sparql"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(TIMEOUT)


@pytest.fixture(scope="module")
def srv(built: Build) -> Iterator[Running]:
    running = Running(built, ServerConfig(port=0, timeout=5.0, max_rows=500))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def quick(built: Build) -> Iterator[Running]:
    """A server with a one-second timeout."""
    running = Running(built, ServerConfig(port=0, timeout=1.0))
    yield running
    running.stop()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def fetch(method: str, url: str, *, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers.items()), exc.read()


def get(endpoint: str, query: str, accept: str | None = None,
        **params: str) -> tuple[int, dict[str, str], bytes]:
    url = endpoint + "?" + urllib.parse.urlencode({"query": query, **params})
    return fetch("GET", url, headers={"Accept": accept} if accept else {})


def post_form(endpoint: str, fields: dict[str, str],
              accept: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if accept:
        headers["Accept"] = accept
    return fetch("POST", endpoint, body=urllib.parse.urlencode(fields).encode(), headers=headers)


def client(endpoint: str, query: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setTimeout(TIMEOUT)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def json_labels(data: dict[str, object]) -> list[str]:
    bindings = data["results"]["bindings"]  # type: ignore[index]
    return [b["label"]["value"] for b in bindings]  # type: ignore[index]


# --------------------------------------------------------------------------- SPARQLWrapper


def test_sparqlwrapper_select_in_every_format(srv: Running) -> None:
    data = client(srv.endpoint, LABELS, JSON).queryAndConvert()
    assert json_labels(data) == SPECIALISTS  # type: ignore[arg-type]

    doc = client(srv.endpoint, LABELS, XML).queryAndConvert()
    assert isinstance(doc, Document)
    literals = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert literals == SPECIALISTS

    text = client(srv.endpoint, LABELS, CSV).queryAndConvert()
    table = list(csv.reader(io.StringIO(text.decode("utf-8"))))  # type: ignore[union-attr]
    assert table[0] == ["entity", "label"] and [r[1] for r in table[1:]] == SPECIALISTS

    text = client(srv.endpoint, LABELS, TSV).queryAndConvert()
    parsed = Result.parse(io.BytesIO(text), format="tsv")  # type: ignore[arg-type]
    assert [str(b[Variable("label")]) for b in parsed.bindings] == SPECIALISTS


@pytest.mark.parametrize("method", ["GET", POST, POSTDIRECTLY])
def test_sparqlwrapper_methods(srv: Running, method: str) -> None:
    sparql = client(srv.endpoint, LABELS, JSON)
    if method == POSTDIRECTLY:
        sparql.setMethod(POST)
        sparql.setRequestMethod(POSTDIRECTLY)  # body of type application/sparql-query
    elif method == POST:
        sparql.setMethod(POST)  # a form
    assert json_labels(sparql.queryAndConvert()) == SPECIALISTS  # type: ignore[arg-type]


def test_sparqlwrapper_ask(srv: Running) -> None:
    ask = NAMED["does-cause"].bind()
    assert client(srv.endpoint, ask, JSON).queryAndConvert() == {"head": {}, "boolean": True}
    doc = client(srv.endpoint, ask, XML).queryAndConvert()
    assert doc.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", [TURTLE, N3, JSONLD])
def test_sparqlwrapper_construct(srv: Running, built: Build, fmt: str) -> None:
    # an entity whose graph is under the server's max_rows (500), so none is cut off
    text = NAMED["entity-graph"].bind({"entity": "kgr:eclampsia"})
    expected = run(built.graph, text).graph
    converted = client(srv.endpoint, text, fmt).queryAndConvert()
    got = converted if isinstance(converted, Graph) else Graph().parse(data=converted,
                                                                       format="turtle")
    assert expected is not None and isomorphic(Graph() + got, expected)


def test_sparqlwrapper_describe(srv: Running) -> None:
    data = client(srv.endpoint, "DESCRIBE kgr:eclampsia", TURTLE).queryAndConvert()
    graph = Graph().parse(data=data, format="turtle")
    assert len(graph) > 5


# --------------------------------------------------------------------------- raw HTTP


@pytest.mark.parametrize("accept,media", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv; charset=utf-8"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/*;q=0.9, application/*;q=0.1", "text/csv; charset=utf-8"),
    ("text/html, */*;q=0.8", "application/sparql-results+json"),
])
def test_content_negotiation_for_results(srv: Running, accept: str | None, media: str) -> None:
    status, headers, body = get(srv.endpoint, LABELS, accept)
    assert status == 200 and headers["Content-Type"] == media
    assert headers["Vary"] == "Accept"
    assert b"neurologist" in body


@pytest.mark.parametrize("accept,media,parse_as", [
    (None, "text/turtle; charset=utf-8", "turtle"),
    ("text/turtle", "text/turtle; charset=utf-8", "turtle"),
    ("application/n-triples", "application/n-triples; charset=utf-8", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/sparql-results+json;q=1, application/ld+json;q=0.5", "application/ld+json",
     "json-ld"),
])
def test_content_negotiation_for_graphs(srv: Running, built: Build, accept: str | None,
                                        media: str, parse_as: str) -> None:
    text = NAMED["entity-graph"].bind({"entity": "kgr:diuretics"})
    status, headers, body = get(srv.endpoint, text, accept)
    assert status == 200 and headers["Content-Type"] == media
    expected = run(built.graph, text).graph
    assert expected is not None
    assert isomorphic(Graph().parse(data=body, format=parse_as), expected)


@pytest.mark.parametrize("query,accept", [
    (LABELS, "text/html"),
    (LABELS, "application/rdf+xml"),
    ("ASK { ?s ?p ?o }", "application/rdf+xml"),
    (LABELS, "application/sparql-results+json;q=0"),
    ("ASK { ?s ?p ?o }", "text/csv"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s a kg:Specialist ; ?p ?o }", "text/csv"),
])
def test_not_acceptable(srv: Running, query: str, accept: str) -> None:
    status, headers, body = get(srv.endpoint, query, accept)
    assert status == 406 and headers["Content-Type"].startswith("text/plain")
    assert b"this endpoint offers" in body


def test_negotiate() -> None:
    offers = RESULT_MEDIA_TYPES
    assert negotiate(None, offers) == ("application/sparql-results+json", "json")
    assert negotiate("text/tab-separated-values;q=0.9, text/csv;q=0.8", offers) == (
        "text/tab-separated-values", "tsv")
    assert negotiate("text/*, text/csv;q=0", offers) == ("text/tab-separated-values", "tsv")
    assert negotiate("image/png", offers) is None
    assert negotiate("garbage, ,;q=x", offers) is None
    assert negotiate("*/*;q=0.1, text/turtle", GRAPH_MEDIA_TYPES) == ("text/turtle", "ttl")


def test_post_form_and_sparql_query_body(srv: Running) -> None:
    status, _, body = post_form(srv.endpoint, {"query": LABELS})
    assert status == 200 and json_labels(json.loads(body)) == SPECIALISTS
    status, _, body = fetch("POST", srv.endpoint, body=LABELS.encode(),
                           headers={"Content-Type": "application/sparql-query; charset=utf-8",
                                    "Accept": "text/csv"})
    assert status == 200 and body.decode().splitlines()[1:] == [
        f"{'https://w3id.org/health-kg/resource/'}{e},{label}" for e, label in zip(
            ["endocrinologist", "general-practitioner", "neurologist", "pediatrician",
             "phlebologist"], SPECIALISTS, strict=True)]


def test_cors(srv: Running) -> None:
    status, headers, _ = get(srv.endpoint, LABELS)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, body = fetch("OPTIONS", srv.endpoint, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]


def count_triples(srv: Running) -> int:
    status, _, body = get(srv.endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert status == 200
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_read_only(srv: Running, built: Build, listener: Listener) -> None:
    before = count_triples(srv)
    insert = "INSERT DATA { kgr:leg-cramp kgr:p kgr:o }"
    attempts = [
        post_form(srv.endpoint, {"update": insert}),
        fetch("POST", srv.endpoint, body=insert.encode(),
             headers={"Content-Type": "application/sparql-update"}),
        get(srv.endpoint, insert),
        post_form(srv.endpoint, {"query": insert}),
        get(srv.endpoint, "DROP ALL"),
        post_form(srv.endpoint, {"update": f"LOAD <{listener.url}>"}),
        post_form(srv.endpoint, {"query": f"LOAD <{listener.url}>"}),
        fetch("GET", srv.endpoint + "?" + urllib.parse.urlencode({"update": "CLEAR ALL"})),
    ]
    for status, headers, body in attempts:
        assert status == 403, body
        assert headers["Content-Type"].startswith("text/plain")
        assert b"read-only" in body
    sparql = SPARQLWrapper(srv.endpoint + "")
    sparql.setTimeout(TIMEOUT)
    sparql.setMethod(POST)
    sparql.setQuery(insert)  # SPARQLWrapper sends an update as update=...
    with pytest.raises(urllib.error.HTTPError) as info:
        sparql.query()
    assert info.value.code == 403
    assert count_triples(srv) == before == len(built.graph)
    status, _, body = get(srv.endpoint, "ASK { kgr:leg-cramp kgr:p kgr:o }")
    assert json.loads(body)["boolean"] is False
    assert listener.connections() == 0


def test_hostile_queries_make_no_outbound_connection(srv: Running, listener: Listener) -> None:
    url = listener.url
    refused = [
        f"SELECT * WHERE {{ SERVICE <{url}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT <{url}> {{ ?s ?p ?x }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * FROM <{url}data.ttl> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{url}g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{url}> WHERE {{ ?s ?p ?o }}",
    ]
    for query in refused:
        status, _, body = get(srv.endpoint, query)
        assert status == 403 and (b"SERVICE" in body or b"FROM" in body), body
    status, _, body = get(srv.endpoint, "SELECT * WHERE { ?s ?p ?o }",
                          **{"default-graph-uri": url})
    assert status == 403
    status, _, body = get(srv.endpoint, "SELECT * WHERE { ?s ?p ?o }", **{"named-graph-uri": url})
    assert status == 403
    # naming a URL is harmless: it is never fetched
    for query in (f"DESCRIBE <{url}>", f"SELECT * WHERE {{ <{url}> ?p ?o }}"):
        assert get(srv.endpoint, query, "*/*")[0] == 200
    assert listener.connections() == 0


@pytest.mark.parametrize("query,status", [
    ("SELEC * WHERE { ?s ?p ?o }", 400),
    ("SELECT * WHERE { ?s ?p }", 400),
    ("SELECT * WHERE { ?s nope:p ?o }", 400),
    ("", 400),
    ('ASK { ?s ?p "\\uDFFF" }', 400),
    ("SELECT * WHERE { ?s ?p ?o FILTER(<http://example.org/f>(?o)) }", 400),
])
def test_bad_queries_get_400_and_one_line(srv: Running, query: str, status: int) -> None:
    code, headers, body = get(srv.endpoint, query)
    assert code == status
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    text = body.decode()
    assert text.endswith("\n") and text.count("\n") == 1 and "Traceback" not in text


def test_request_limits_and_methods(srv: Running) -> None:
    big = "ASK { ?s ?p ?o }\n#" + "x" * MAX_QUERY_BYTES
    assert post_form(srv.endpoint, {"query": big})[0] == 413
    status, _, body = fetch("POST", srv.endpoint, body=b"x" * (4 * MAX_QUERY_BYTES + 1),
                           headers={"Content-Type": "application/sparql-query"})
    assert status == 413 and b"too large" in body
    assert fetch("POST", srv.endpoint, body=b"{}", headers={
        "Content-Type": "application/json"})[0] == 415
    assert fetch("PUT", srv.endpoint, body=b"x", headers={"Content-Type": "text/turtle"})[0] == 405
    assert fetch("DELETE", srv.endpoint)[0] == 405
    assert fetch("GET", srv.url + "nowhere")[0] == 404
    status, headers, body = fetch("HEAD", srv.url)
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert fetch("GET", srv.endpoint)[0] == 400  # no query
    two = urllib.parse.urlencode([("query", LABELS), ("query", LABELS)])
    assert fetch("GET", f"{srv.endpoint}?{two}")[0] == 400  # two queries
    assert fetch("POST", srv.endpoint, body=b"query=%FF",
                headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 400


def test_a_post_without_content_length_is_refused(srv: Running) -> None:
    host, port = srv.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/sparql-query\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK {\r\n0\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 411")


def test_results_are_capped_at_max_rows(srv: Running) -> None:
    status, headers, body = get(srv.endpoint, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and headers["X-Kg-Truncated"] == "max-rows=500"
    assert len(json.loads(body)["results"]["bindings"]) == 500
    assert "X-Kg-Truncated" in headers["Access-Control-Expose-Headers"]
    status, headers, _ = get(srv.endpoint, LABELS)
    assert "X-Kg-Truncated" not in headers


def test_the_page(srv: Running) -> None:
    status, headers, body = fetch("GET", srv.url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    for query in NAMED.values():
        assert json.dumps(query.title)[1:-1].replace("<", "\\u003c") in page
    # nothing is fetched from elsewhere, and the policy says so
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    [script] = re.findall(r"<script>(.*?)</script>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    # data from results is set with textContent, never parsed as HTML
    assert "innerHTML" not in page and "insertAdjacentHTML" not in page
    assert "textContent" in script
    # the embedded JSON cannot close its <script> element
    data = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S)
    assert data is not None and "<" not in data.group(1)
    assert json.loads(data.group(1))["examples"][0]["query"]


# --------------------------------------------------------------------------- processes


def zygote_children(server: SparqlServer) -> list[int]:
    """The query processes alive under the server's zygote (Linux /proc)."""
    zygote = server.pool.zygote
    return children(zygote.pid) if zygote is not None else []


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def health(running: Running) -> dict[str, Any]:
    status, _, body = fetch("GET", running.url + "health")
    report: dict[str, Any] = json.loads(body)
    assert status == (200 if report["status"] == "ok" else 503)
    return report


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_runaway_query_is_stopped_and_others_go_on(quick: Running) -> None:
    workers = quick.server.config.workers
    assert wait_for(lambda: len(zygote_children(quick.server)) == workers)
    before = set(zygote_children(quick.server))
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        outcome["runaway"] = get(quick.endpoint, RUNAWAY)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    assert wait_for(lambda: health(quick)["workers"]["busy"] == 1)  # the runaway runs
    fresh = LABELS + f"  # {time.time()}"  # a text no cache has seen: a worker answers
    status, _, body = get(quick.endpoint, fresh)  # and another is served meanwhile
    assert status == 200 and b"phlebologist" in body
    assert thread.is_alive()
    thread.join(TIMEOUT)
    status, headers, body = outcome["runaway"]  # type: ignore[misc]
    assert status == 503 and b"timeout of 1 s" in body and headers["Retry-After"]
    assert 1.0 <= outcome["seconds"] < 3.0  # type: ignore[operator]
    # the runaway's worker was killed, not left running, and another took its place
    assert wait_for(lambda: len(zygote_children(quick.server)) == workers)
    after = set(zygote_children(quick.server))
    assert len(before - after) == 1 and len(after - before) == 1
    assert get(quick.endpoint, LABELS + f"  # {time.time()}")[0] == 200


def test_eight_concurrent_clients(srv: Running) -> None:
    errors: list[BaseException] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            for i in range(6):
                started = time.monotonic()
                if (n + i) % 2:
                    data = client(srv.endpoint, LABELS, JSON).queryAndConvert()
                    assert json_labels(data) == SPECIALISTS  # type: ignore[arg-type]
                else:
                    status, _, body = get(srv.endpoint, NAMED["specialists"].bind(), "text/csv")
                    assert status == 200 and len(body.splitlines()) == 6
                with lock:
                    latencies.append(time.monotonic() - started)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    assert not errors, errors
    assert len(latencies) == 48
    assert max(latencies) < 5.0


def test_the_port_in_use_is_a_clear_error(srv: Running, built: Build) -> None:
    port = int(srv.server.server_address[1])
    with pytest.raises(KgError, match=f"cannot listen on 127.0.0.1 port {port}"):
        SparqlServer(MemoryBackend(built), NAMED, ServerConfig(port=port))


def test_loopback_by_default() -> None:
    assert ServerConfig().host == "127.0.0.1"
    assert ServerConfig().port == 7878


def test_kg_serve_as_a_real_process(build_dir: Path, tmp_path: Path) -> None:
    zygotes: list[int] = []
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--port", "0", "--timeout", "5",
         "--build-dir", str(build_dir)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "KG_QUERIES": ""})
    try:
        assert proc.stderr is not None
        said = _read_line(proc, TIMEOUT)
        m = re.search(r"SPARQL endpoint (http://127\.0\.0\.1:\d+/sparql)", said)
        assert m, said
        endpoint = m.group(1)
        data = client(endpoint, LABELS, JSON).queryAndConvert()
        assert json_labels(data) == SPECIALISTS  # type: ignore[arg-type]
        status, _, body = get(endpoint, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> {} }")
        assert status == 403
        zygotes = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat")
                   if _ppid(p) == proc.pid]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(TIMEOUT) == 0
        rest = said + proc.stderr.read().decode()
        assert "kg: stopped" in rest and "Traceback" not in rest
        assert re.search(r'"GET /sparql\?query=.* HTTP/1.1" 200', rest)  # request log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
    # the server stopped its zygote (and so its query processes) before exiting
    if Path("/proc/self/stat").exists():
        assert len(zygotes) == 1
        assert not Path(f"/proc/{zygotes[0]}").exists()


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not sel.select(remaining):
            raise AssertionError(f"kg serve said nothing in {timeout} s: {data!r}")
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"kg serve exited: {data!r}")
        data += chunk
    sel.close()
    return data.decode()


def _ppid(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_http_client_keep_alive(srv: Running) -> None:
    host, port = srv.server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=TIMEOUT)
    try:
        for _ in range(3):
            conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": LABELS}),
                         headers={"Accept": "text/csv"})
            response = conn.getresponse()
            assert response.status == 200 and b"phlebologist" in response.read()
    finally:
        conn.close()


CHROMIUM = Path("/usr/bin/chromium")


def test_the_page_in_a_browser(srv: Running) -> None:
    """Click a named query, get a table; a hostile value stays text; nothing leaves."""
    need_system_tool(str(CHROMIUM) if CHROMIUM.exists() else None,
                     f"Chromium at {CHROMIUM} (apt-get install chromium)")
    import playwright.sync_api as playwright
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), timeout=TIMEOUT * 1000,
                                     args=["--no-sandbox", "--disable-gpu", "--headless"])
        try:
            page = browser.new_page()
            elsewhere: list[str] = []
            errors: list[str] = []
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(srv.url)
                       else (elsewhere.append(route.request.url), route.abort())[1])
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(srv.url, timeout=TIMEOUT * 1000)
            page.get_by_text("Which specialist to see").click()
            page.locator("#status", has_text="5 rows").wait_for(timeout=TIMEOUT * 1000)
            cells = page.locator("tbody td").all_text_contents()
            assert "kgr:phlebologist" in cells and "pediatrician" in cells
            hostile = "<img src=x onerror=window.owned=1>"
            page.fill("#query", f"SELECT ?x WHERE {{ BIND('{hostile}' AS ?x) }}")
            page.click("#run")
            page.locator("#status", has_text="1 row").wait_for(timeout=TIMEOUT * 1000)
            assert page.locator("tbody td").all_text_contents() == [hostile]
            assert page.locator("tbody img").count() == 0
            assert page.evaluate("window.owned") is None
            page.fill("#query", "SELEC")
            page.click("#run")
            page.locator("#status.error").wait_for(timeout=TIMEOUT * 1000)
            assert "400" in page.locator("#status").text_content()
            assert elsewhere == [] and errors == []
        finally:
            browser.close()



# --------------------------------------------------------------------------- the pool


def test_health_says_queries_can_run(srv: Running) -> None:
    report = health(srv)
    assert report["status"] == "ok" and report["queries"] == "can run"
    assert report["workers"]["alive"] == srv.server.config.workers
    assert report["zygote"] is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")
def test_the_query_processes_have_no_network(srv: Running) -> None:
    """The zygote and every worker run under kg's seccomp filter (mode 2), which denies
    socket(): a query that got past the check still could not connect anywhere."""
    zygote = srv.server.pool.zygote
    assert zygote is not None
    assert wait_for(lambda: len(zygote_children(srv.server)) == srv.server.config.workers)
    for pid in [zygote.pid, *zygote_children(srv.server)]:
        status = Path(f"/proc/{pid}/status").read_text()
        assert re.search(r"^Seccomp:\s+2$", status, re.M), pid
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), pid


@pytest.fixture(scope="module")
def inferring(built: Build) -> Iterator[Running]:
    """A server with inference on (kg serve --infer): another dataset, the same checks."""
    running = Running(built, ServerConfig(port=0, timeout=5.0, infer=True))
    yield running
    running.stop()


@pytest.mark.parametrize("mode", ["asserted", "inferred"])
def test_no_payload_reaches_the_network_over_http(srv: Running, inferring: Running,
                                                  listener: Listener, mode: str) -> None:
    from .test_isolation import payloads

    server = inferring if mode == "inferred" else srv
    assert fetch("GET", server.url + "health")[0] == 200
    for payload in payloads(listener.url):
        for status, headers, body in (get(server.endpoint, payload),
                                      post_form(server.endpoint, {"query": payload}),
                                      fetch("POST", server.endpoint, body=payload.encode(),
                                            headers={"Content-Type":
                                                     "application/sparql-query"})):
            assert status in (200, 400, 403), body
            assert body.count(b"\n") == 1 or status == 200
            if status == 200:
                assert headers["X-Kg-Inference"] == ("on" if mode == "inferred" else "off")
    assert listener.connections() == 0


def test_construct_as_rdfxml_for_sparqlwrapper_and_rdflib(srv: Running, built: Build) -> None:
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a kg:Specialist ; ?p ?o }"
    graph = client(srv.endpoint, construct, XML).queryAndConvert()  # asks for RDF/XML
    assert isinstance(graph, Graph) and len(graph) > 10
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(srv.endpoint, returnFormat="xml")
    result = Graph(store=store).query(construct)
    assert result.graph is not None and isomorphic(result.graph, graph)
    status, headers, body = get(srv.endpoint, "DESCRIBE <leg-cramp>", "application/rdf+xml")
    assert status == 200 and headers["Content-Type"] == "application/rdf+xml"
    assert len(Graph().parse(data=body, format="xml")) > 10


def test_a_repeated_query_is_answered_from_the_cache(srv: Running) -> None:
    text = LABELS + f"  # {time.time()}"
    first = get(srv.endpoint, text)
    hits = health(srv)["cache"]["hits"]
    again = get(srv.endpoint, text)
    assert again[0] == first[0] == 200 and again[2] == first[2]
    assert health(srv)["cache"]["hits"] == hits + 1
    csv_answer = get(srv.endpoint, text, "text/csv")  # another format is another entry
    assert csv_answer[0] == 200 and csv_answer[2].startswith(b"entity,label")


@pytest.fixture
def fragile(built: Build) -> Iterator[Running]:
    """A server of its own for tests that kill its processes or fill its queue."""
    running = Running(built, ServerConfig(port=0, timeout=2.0, workers=1, queue=1,
                                          memory=128 * 1024**2, cache_bytes=0))
    yield running
    running.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_dead_processes_are_replaced(fragile: Running) -> None:
    server = fragile.server
    assert wait_for(lambda: health(fragile)["workers"]["alive"] == 1)
    zygote = server.pool.zygote
    assert zygote is not None
    os.kill(zygote.pid, signal.SIGKILL)  # the zygote dies: a new one is started
    assert wait_for(lambda: server.pool.zygote is not None
                    and server.pool.zygote.pid != zygote.pid
                    and health(fragile)["zygote"], 15)
    [worker] = zygote_children(server) or list(server.pool.workers)
    os.kill(worker, signal.SIGKILL)  # the worker dies: the supervisor replaces it
    assert wait_for(lambda: health(fragile)["workers"]["alive"] == 1
                    and worker not in server.pool.workers, 15)
    status, _, body = get(fragile.endpoint, LABELS)
    assert status == 200 and b"phlebologist" in body
    assert health(fragile)["restarts"]["zygote"] >= 1


def test_past_the_queue_the_answer_is_503_with_retry_after(fragile: Running) -> None:
    assert wait_for(lambda: health(fragile)["workers"]["alive"] == 1)
    outcomes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    threads = [threading.Thread(
        target=lambda: outcomes.setdefault("runaway", get(fragile.endpoint, RUNAWAY)))]
    threads[0].start()
    assert wait_for(lambda: health(fragile)["workers"]["busy"] == 1)
    threads.append(threading.Thread(  # waits for the worker: the queue is now full
        target=lambda: outcomes.setdefault("queued", get(fragile.endpoint, LABELS))))
    threads[1].start()
    assert wait_for(lambda: health(fragile)["waiting"] == 1)
    started = time.monotonic()
    status, headers, body = get(fragile.endpoint, LABELS + " # third")
    assert status == 503 and headers["Retry-After"] == "1" and b"server busy" in body
    assert time.monotonic() - started < 1  # at once, not after a wait
    for thread in threads:
        thread.join(TIMEOUT)
    assert outcomes["runaway"][0] == 503 and b"timeout" in outcomes["runaway"][2]
    # the one that waited got the runaway's replacement in time, or gave up at its timeout
    assert outcomes["queued"][0] in (200, 503)
    assert get(fragile.endpoint, LABELS)[0] == 200


def test_a_memory_runaway_is_stopped_and_the_server_goes_on(fragile: Running) -> None:
    hog = "SELECT ?a ?b ?c ?d WHERE { ?a ?p ?b . ?c ?q ?d } ORDER BY ?a ?b ?c ?d"
    status, _, body = get(fragile.endpoint, hog)
    assert status == 500 and b"memory limit of 128 MiB" in body and body.count(b"\n") == 1
    assert wait_for(lambda: health(fragile)["workers"]["alive"] == 1)
    assert get(fragile.endpoint, LABELS)[0] == 200


def test_a_queue_of_none_still_serves_an_idle_worker(built: Build) -> None:
    running = Running(built, ServerConfig(port=0, workers=1, queue=0, cache_bytes=0))
    try:
        assert wait_for(lambda: health(running)["workers"]["idle"] == 1)
        status, _, body = get(running.endpoint, LABELS)
        assert status == 200 and b"phlebologist" in body
    finally:
        running.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_zygote_started_again_refuses_a_build_that_changed(build_dir: Path, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    """Workers and cache serve the build the server started with: after a new 'kg
    build' in its directory, a zygote that died is not started on the new graph."""
    import shutil

    from kg.store import load_build

    copy = tmp_path / "build"
    shutil.copytree(build_dir, copy)
    running = Running(load_build(copy), ServerConfig(port=0, workers=1, cache_bytes=0))
    try:
        assert wait_for(lambda: health(running)["workers"]["alive"] == 1)
        nt = (copy / "graph.nt").read_bytes() + b"<urn:a> <urn:b> <urn:c> .\n"
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest["outputs"]["graph.nt"] = hashlib.sha256(nt).hexdigest()
        (copy / "graph.nt").write_bytes(nt)  # what a new build leaves
        (copy / "manifest.json").write_text(json.dumps(manifest))
        zygote = running.server.pool.zygote
        assert zygote is not None
        with caplog.at_level(logging.WARNING, logger="kg.server"):
            os.kill(zygote.pid, signal.SIGKILL)
            assert wait_for(lambda: "changed while kg serve ran" in caplog.text, 15)
        status, _, body = get(running.endpoint, "ASK { <urn:a> <urn:b> <urn:c> }")
        assert status == 200 and json.loads(body)["boolean"] is False  # the old graph
    finally:
        running.stop()
