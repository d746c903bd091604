"""The query path as an attacker tries it: one text checked and run, a query process
with no network, a check cache that a planted file cannot fool; and the bounds every
query gets from the command line (timeout, memory, Ctrl-C).

Every payload runs against a real socket listening on 127.0.0.1 that counts the
connections made to it: a test passes only if none was."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg import check as check_module
from kg.check import Checked, canonical, check
from kg.cli import cli
from kg.engine import Limits, QueryKilled, QueryTimeout, Worker
from kg.errors import QueryError, QueryRefused
from kg.sandbox import confine
from kg.store import Backend, Build, MemoryBackend

from .conftest import children
from .test_queries import Listener

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HOG = "SELECT ?a ?b ?c ?d WHERE { ?a ?p ?b . ?c ?q ?d } ORDER BY ?a ?b ?c ?d"
KG = [sys.executable, "-m", "kg"]


def payloads(url: str) -> list[str]:
    """Queries that reached ``url`` on earlier versions of kg, or try to: SERVICE hidden
    from one parser and shown to the other (a codepoint escape that ends a string for
    one reading only, a comment that one parser ends at a carriage return), SERVICE
    spelt with escapes, and SERVICE where a check might not look."""
    return [text.replace("URL", url) for text in (
        'SELECT * WHERE { { ?a ?b "\\u005C" } UNION { SERVICE <URL> { ?s ?p ?o } #"\n} }',
        'SELECT * WHERE { { ?a ?b "\\U0000005c" } UNION { SERVICE <URL> { ?s ?p ?o } #"\n} }',
        "SELECT * WHERE { ?s ?p ?o # a comment\rSERVICE <URL> { ?a ?b ?c }\n}",
        "SELECT * WHERE { ?s ?p ?o # a comment\\u000DSERVICE <URL> { ?a ?b ?c }\n}",
        "SELECT * WHERE { ?s ?p ?o \\u0053ERVICE <URL> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p ?o sErViCe <URL> { ?a ?b ?c } }",
        "SELECT * WHERE { SERVICE <URL\\u002Fx> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE SILENT <URL> { ?s ?p ?o } } }",
        "SELECT * WHERE { { SELECT * WHERE { OPTIONAL { SERVICE <URL> { ?s ?p ?o } } } } }",
        "SELECT * FROM <URL> WHERE { ?s ?p ?o }",
    )]


CONSTRUCTS = [
    'CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p "\\u005C" } UNION { SERVICE <URL> { ?s ?p ?o } #"\n} }',
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o # a comment\rSERVICE <URL> { ?s ?p ?o }\n}",
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def refused_or_harmless(outcome: tuple[int, str]) -> None:
    """A payload is refused with one line, or runs as the harmless query it is."""
    code, err = outcome
    assert "Traceback" not in err
    assert code == 0 or len([x for x in err.splitlines() if x.startswith("Error")]) == 1


# --------------------------------------------------------------------------- the text


def test_the_text_checked_is_the_text_that_runs() -> None:
    """rdflib would expand an escape a second time, or read on past a carriage return
    inside a comment; kg hands both parsers one text with neither in it."""
    text = 'SELECT * WHERE { ?s ?p "\\u005C\\u005Cu0041" } # a\r# b'
    assert canonical(text) == 'SELECT * WHERE { ?s ?p "\\\\u0041" } # a\n# b'
    checked = check(text)
    assert checked.text.endswith(canonical(text))
    assert checked.text.startswith("BASE <https://w3id.org/health-kg/resource/>\n")


@pytest.mark.parametrize("text,problem", [
    ('ASK { ?s ?p "\\u005Cu0041" }', "a codepoint escape made a backslash"),
    ('ASK { ?s ?p "\\uDC00" }', "names no Unicode character"),
    ("ASK { ?s ?p ?o }\n#" + "x" * 70_000, "query too long"),
])
def test_texts_that_parsers_would_read_differently_are_refused(text: str, problem: str) -> None:
    with pytest.raises(QueryError, match=problem):
        check(text)


def test_check_refuses_service_that_its_scanner_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second reader: kg's scanner refuses a SERVICE keyword even if rdflib's parse
    would not show it."""
    monkeypatch.setattr(check_module, "_refuse", lambda tree: None)
    with pytest.raises(QueryRefused, match="SERVICE"):
        check_module.prepare("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    # a keyword in a string, an IRI, a comment or a language tag is not one
    check_module.prepare('SELECT * WHERE { ?s ?p "service from" . ?s <urn:service> '
                         '"x"@from } # SERVICE <urn:x>')


# --------------------------------------------------------------------------- entry points


def run_cli(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stderr


def test_no_payload_reaches_the_network_from_kg_query(runner: CliRunner, build_dir: Path,
                                                       tmp_path: Path,
                                                       oxigraph_store: Backend,
                                                       listener: Listener) -> None:
    store = f"oxigraph:{oxigraph_store.path}"  # type: ignore[attr-defined]
    for n, payload in enumerate(payloads(listener.url)):
        rq = tmp_path / f"payload{n}.rq"
        rq.write_text(payload, encoding="utf-8")
        for args in (["-e", payload], [str(rq)], ["-e", payload, "--store", store],
                     ["-e", payload, "--infer"], [str(rq), "--infer"]):
            outcome = run_cli(runner, "query", *args, "--build-dir", str(build_dir),
                              "--timeout", "5")
            refused_or_harmless(outcome)
    assert listener.connections() == 0


def test_no_payload_reaches_the_network_from_export_and_viz(runner: CliRunner,
                                                            build_dir: Path, tmp_path: Path,
                                                            listener: Listener) -> None:
    for n, template in enumerate(CONSTRUCTS):
        rq = tmp_path / f"construct{n}.rq"
        rq.write_text(template.replace("URL", listener.url), encoding="utf-8")
        for command in (["export", "--format", "nt"],
                        ["viz", "-o", str(tmp_path / "out.html")],
                        ["viz", "--input", str(build_dir / "graph.nt"),  # rdflib runs these
                         "-o", str(tmp_path / "in.html")]):
            refused_or_harmless(run_cli(runner, *command, "--query", str(rq),
                                        "--build-dir", str(build_dir)))
    assert listener.connections() == 0


def test_no_payload_reaches_the_network_from_python(built: Build, listener: Listener) -> None:
    for payload in payloads(listener.url):
        for infer in (False, True):
            try:
                built.query(payload, infer=infer)
            except QueryError:
                pass
    assert listener.connections() == 0


# --------------------------------------------------------------------------- the sandbox


def in_child(fn: object) -> int:
    """Run ``fn()`` in a forked child; its exit status (0 if it returned)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            fn()  # type: ignore[operator]
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")
def test_a_confined_process_cannot_open_a_socket(listener: Listener) -> None:
    def reach() -> None:
        socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()

    def confined_reach() -> None:
        confine()
        try:
            reach()
        except PermissionError as exc:
            assert exc.errno == errno.EACCES
            os._exit(7)

    assert in_child(reach) == 0  # the listener counts what gets through...
    assert listener.connections() == 1
    assert in_child(confined_reach) == 7  # ...and nothing gets through the sandbox
    assert listener.connections() == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux")
def test_service_in_the_query_process_fails_even_unchecked(built: Build, listener: Listener,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Defence in depth: a SERVICE that no check stopped (a Checked made by hand) gets
    no connection out of the query process; without the sandbox the same one would."""
    unchecked = Checked(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
                        "SELECT")
    worker = Worker(lambda: built.store, Limits(timeout=5))
    try:
        with pytest.raises(QueryError, match="query failed"):
            worker.run(unchecked)
    finally:
        worker.close()
    assert listener.connections() == 0
    monkeypatch.setenv("KG_SANDBOX", "off")  # the control: the listener sees this one
    worker = Worker(lambda: built.store, Limits(timeout=2))
    try:
        with pytest.raises(QueryError):
            worker.run(unchecked)
    finally:
        worker.close()
    assert listener.connections() >= 1


# --------------------------------------------------------------------------- the cache


def test_a_planted_cache_entry_does_not_skip_the_check(runner: CliRunner, build_dir: Path,
                                                       tmp_path: Path, listener: Listener,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KG_CACHE_DIR", str(cache))
    monkeypatch.setattr(check_module, "_checked", {})
    payload = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    rq = tmp_path / "evil.rq"
    rq.write_text(payload, encoding="utf-8")
    # what the old cache trusted: a file named by the text's SHA-256, saying SELECT
    (cache / "checked").mkdir(parents=True, mode=0o700)
    for text in (payload, check_module.standalone(payload)):
        for rules in (b"kg-check-1\0", b"kg-check-2\0"):
            name = hashlib.sha256(rules + text.encode()).hexdigest()
            (cache / "checked" / name).write_text("SELECT")
    code, err = run_cli(runner, "query", str(rq), "--build-dir", str(build_dir))
    assert code == 1 and "SERVICE is not allowed" in err
    assert listener.connections() == 0


def test_the_cache_is_used_only_when_it_is_private(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # anyone may write: no secret is made, nothing is remembered
    monkeypatch.setenv("KG_CACHE_DIR", str(shared))
    monkeypatch.setattr(check_module, "_checked", {})
    check("ASK { ?s ?p ?o }", persist=True)
    assert list(shared.iterdir()) == []
    private = tmp_path / "private"
    monkeypatch.setenv("KG_CACHE_DIR", str(private))
    monkeypatch.setattr(check_module, "_checked", {})
    check("ASK { ?s ?p ?o }", persist=True)
    assert (private / "secret").stat().st_mode & 0o777 == 0o600
    assert len(list((private / "checked").iterdir())) == 1
    (private / "secret").chmod(0o644)  # a secret others can read is no secret
    monkeypatch.setattr(check_module, "_checked", {})
    calls: list[str] = []
    real = check_module.prepare
    monkeypatch.setattr(check_module, "prepare", lambda t: calls.append(t) or real(t))
    check("ASK { ?s ?p ?o }", persist=True)
    assert calls  # checked again, not taken from the cache


# --------------------------------------------------------------------------- bounds


def test_kg_query_stops_at_the_timeout(runner: CliRunner, build_dir: Path) -> None:
    started = time.monotonic()
    code, err = run_cli(runner, "query", "-e", RUNAWAY, "--timeout", "1",
                        "--build-dir", str(build_dir))
    assert code == 1
    assert err.strip() == "Error: query stopped: it ran longer than the timeout of 1 s"
    assert time.monotonic() - started < 5


def test_kg_query_stops_at_the_memory_limit(runner: CliRunner, build_dir: Path) -> None:
    code, err = run_cli(runner, "query", "-e", HOG, "--memory", "64", "--timeout", "60",
                        "--build-dir", str(build_dir))
    assert code == 1
    [line] = [x for x in err.splitlines() if x.startswith("Error")]
    assert "memory limit of 64 MiB" in line


def test_a_worker_is_replaced_after_a_timeout(built: Build) -> None:
    backend = MemoryBackend(built, Limits(timeout=1))
    try:
        with pytest.raises(QueryTimeout):
            backend.run(check(RUNAWAY))
        assert backend.run(check("ASK { ?s ?p ?o }")).boolean is True
        with pytest.raises(QueryKilled):
            MemoryBackend(built, Limits(timeout=30, memory=64 * 1024**2)).run(check(HOG))
    finally:
        backend.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_a_running_query_at_once(build_dir: Path) -> None:
    proc = subprocess.Popen([*KG, "query", "-e", RUNAWAY, "--build-dir", str(build_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not children(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        [worker] = children(proc.pid)  # the query process is running
        time.sleep(0.3)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C goes to the terminal's process group
        _, err = proc.communicate(timeout=5)
        assert time.monotonic() - started < 2
        assert proc.returncode != 0 and b"Traceback" not in err
        assert not Path(f"/proc/{worker}").exists() or "Z" in Path(
            f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- conformance


@pytest.mark.parametrize("text,expected", [
    ("SELECT ?l WHERE { <leg-cramp> rdfs:label ?l }", "leg cramp"),
    ("PREFIX : <> SELECT ?l WHERE { :leg-cramp rdfs:label ?l }", "leg cramp"),
    ("BASE <https://w3id.org/health-kg/resource/x/> SELECT ?l WHERE { <../leg-cramp> "
     "rdfs:label ?l }", "leg cramp"),
    ("SELECT $l WHERE { kgr:leg-cramp rdfs:label $l }", "leg cramp"),
    ("SELECT * WHERE { <a> <b> -1.0 }", ""),
    ("SELECT * WHERE { <a><b>-1.0 }", ""),
])
def test_valid_queries_run(runner: CliRunner, build_dir: Path, text: str, expected: str) -> None:
    result = runner.invoke(cli, ["query", "-e", text, "--format", "csv",
                                 "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert expected in result.stdout


def test_describe_a_relative_iri_as_rdfxml(runner: CliRunner, build_dir: Path) -> None:
    result = runner.invoke(cli, ["query", "-e", "DESCRIBE <leg-cramp>", "--format", "rdfxml",
                                 "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout, format="xml")
    assert len(graph) > 10


@pytest.mark.parametrize("text,message", [
    ("SELECT * WHERE { ?s ?p ?o FILTER(<http://example.org/f>(?o)) }",
     "Error: query failed: The custom function <http://example.org/f> is not supported"),
    ("SELECT * WHERE {\n  ?s ?p ?o .\n  BIND(1 AS ?s) }", "Error: query failed: error at 3:"),
])
def test_engine_errors_are_one_line(runner: CliRunner, build_dir: Path, text: str,
                                    message: str) -> None:
    code, err = run_cli(runner, "query", "-e", text, "--build-dir", str(build_dir))
    assert code == 1 and err.startswith(message) and err.count("\n") == 1


def test_no_payload_reaches_the_network_through_an_endpoint(runner: CliRunner, build_dir: Path,
                                                            oxigraph_server: str,
                                                            listener: Listener) -> None:
    """``--endpoint`` sends the text kg checked, character for character: an Oxigraph
    server (which has SERVICE, and no sandbox of kg's) reads it as kg's check did."""
    for payload in payloads(listener.url):
        refused_or_harmless(run_cli(runner, "query", "-e", payload, "--endpoint",
                                    oxigraph_server + "/query", "--build-dir", str(build_dir)))
    assert listener.connections() == 0
    # the control: sent to that server without kg, the first payload does reach out
    import urllib.parse
    import urllib.request

    form = urllib.parse.urlencode({"query": payloads(listener.url)[0]}).encode()
    try:
        urllib.request.urlopen(oxigraph_server + "/query", data=form, timeout=10).read()
    except OSError:
        pass
    assert listener.connections() >= 1
