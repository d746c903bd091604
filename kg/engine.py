"""Checked query -> engine: Oxigraph, evaluating in sandboxed processes of its own.

Every query kg evaluates on its own engine (the build in memory, an Oxigraph store on
disk, the endpoint) runs in a *query process*, never in the process that took the
query from outside:

* the process has no network (:func:`kg.sandbox.confine`: a seccomp filter denies
  ``socket()``), so a SERVICE that a check missed cannot become a request;
* its address space is capped (the store plus a memory budget), and each query has a
  CPU-time budget;
* the process that asked watches the wall clock and kills it at the timeout (and at
  Ctrl-C); the next query gets a new one.

Two ways to get a query process, one protocol to talk to it (:func:`serve_requests`:
length-prefixed frames on a connected Unix socket, a JSON header, never pickle):

* :class:`Worker` forks one from the calling process, for the command line and the
  Python API; it lives for as many queries as it is given, until a timeout or
  :meth:`Worker.close`;
* the endpoint starts a *zygote* (``python -m kg.engine``, a fresh single-threaded
  interpreter that loads the build once and confines itself) that forks a pool of
  workers sharing its pages (:mod:`kg.server`).

A query runs on a :class:`Dataset`: the store, with inference on or off. Off, it sees
the asserted graph alone (the store's default graph); on, the default graph merged
with the named graph of inferred triples (:data:`kg.infer.INFERRED_GRAPH`), which
``GRAPH`` still names apart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .check import Checked
from .errors import DataError, KgError, QueryError, first_line
from .infer import INFERRED_GRAPH
from .results import QueryResult, graph_result, select_result

if TYPE_CHECKING:
    import pyoxigraph

    from .results import Term

#: How long a query may run by default, in seconds (command line and Python API).
DEFAULT_TIMEOUT = 60.0
#: How much memory a query may use by default, beyond the loaded graph (2 GiB).
DEFAULT_MEMORY = 2 * 1024**3

_FRAME = struct.Struct("!Q")
#: The largest frame kg reads from a query process (1 GiB).
MAX_FRAME = 1024**3


class QueryTimeout(QueryError):
    """A query ran past its wall-clock timeout and its process was killed."""


class QueryKilled(QueryError):
    """A query's process died before it answered (its memory or CPU limit, most
    likely)."""


@dataclass(frozen=True)
class Limits:
    """How long a query may run and how much memory it may take."""

    #: seconds of wall-clock time (None: no limit)
    timeout: float | None = DEFAULT_TIMEOUT
    #: bytes of address space beyond what the query process holds when it starts (None:
    #: no limit)
    memory: int | None = DEFAULT_MEMORY

    def describe_death(self, detail: str) -> str:
        """Why a query process that died without answering most likely died."""
        if "SIGXCPU" in detail:
            return (f"query stopped: it used more CPU time than its budget of "
                    f"{self.timeout or 0:g} s")
        cap = f" of {self.memory // 1024**2:,} MiB" if self.memory else ""
        return (f"query stopped: its process died ({detail}); most likely it needed more "
                f"than the memory limit{cap}")


# --------------------------------------------------------------------------- datasets


class Dataset:
    """What a query sees: the graphs of ``store``, with inference on or off.

    Off: the default graph (the asserted facts); the named graph of inferred triples
    is hidden, from ``GRAPH`` too. On: the default graph merged with the inferred
    graph, and ``GRAPH <https://w3id.org/health-kg/graph/inferred>`` for the inferred
    triples alone (they are never also asserted, so the merge repeats nothing). A store
    without that graph cannot run with inference on (DataError)."""

    def __init__(self, store: pyoxigraph.Store, infer: bool = False) -> None:
        import pyoxigraph

        self.store = store
        self.infer = infer
        inferred = pyoxigraph.NamedNode(INFERRED_GRAPH)
        named = list(store.named_graphs())
        self._options: dict[str, Any] = {}
        if infer:
            if inferred not in named:
                raise DataError(f"inference is on, but the store has no graph "
                                f"<{INFERRED_GRAPH}> of inferred triples")
            if named == [inferred]:  # the same merge, and Oxigraph's faster way to it
                self._options["use_default_graph_as_union"] = True
            else:
                self._options["default_graph"] = [pyoxigraph.DefaultGraph(), inferred]
        elif inferred in named:
            self._options["named_graphs"] = [g for g in named if g != inferred]

    def query(self, text: str) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean \
            | pyoxigraph.QueryTriples:
        return self.store.query(text, **self._options)

    def __len__(self) -> int:
        return len(self.store)


# --------------------------------------------------------------------------- frames


def send_frame(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_FRAME.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None = None) -> bytes:
    """One frame; EOFError if the other side closed, TimeoutError past ``deadline``
    (a :func:`time.monotonic` time)."""
    (size,) = _FRAME.unpack(_recv_exactly(sock, _FRAME.size, deadline))
    if size > MAX_FRAME:
        raise EOFError
    return _recv_exactly(sock, size, deadline)


def pack(header: Mapping[str, Any], body: bytes = b"") -> bytes:
    return json.dumps(header).encode("utf-8") + b"\0" + body


def unpack(frame: bytes) -> tuple[dict[str, Any], bytes]:
    head, _, body = frame.partition(b"\0")
    header: dict[str, Any] = json.loads(head)
    return header, body


# --------------------------------------------------------------------------- terms


def term_from_json(value: Mapping[str, str]) -> Term:
    """A term of SPARQL 1.1 JSON results, as pyoxigraph's."""
    import pyoxigraph

    from .results import blank_node

    kind = value.get("type")
    try:
        if kind == "uri":
            return pyoxigraph.NamedNode(value["value"])
        if kind == "bnode":
            return blank_node(value["value"])
        if "xml:lang" in value:
            return pyoxigraph.Literal(value["value"], language=value["xml:lang"])
        datatype = value.get("datatype")
        return pyoxigraph.Literal(value["value"], datatype=pyoxigraph.NamedNode(datatype)
                                  if datatype else None)
    except (KeyError, ValueError) as exc:
        raise QueryError(f"the endpoint sent a term kg cannot read: {dict(value)!r} "
                         f"({first_line(exc)})") from None


# --------------------------------------------------------------------------- running


def oxigraph_run(store: pyoxigraph.Store | Dataset, query: Checked, max_rows: int | None
                 ) -> QueryResult:
    """Run checked ``query`` on an Oxigraph store, in this process: only a query
    process should call this. Solutions keep pyoxigraph's terms; a graph becomes an
    rdflib graph."""
    import pyoxigraph

    from .results import to_rdflib

    try:
        result = store.query(query.text)
        if isinstance(result, pyoxigraph.QueryBoolean):
            return QueryResult(query.form, boolean=bool(result))
        if isinstance(result, pyoxigraph.QueryTriples):
            return graph_result(query.form, ((to_rdflib(t.subject), to_rdflib(t.predicate),  # type: ignore[misc]
                                              to_rdflib(t.object)) for t in result), max_rows)
        width = len(result.variables)
        names = tuple(v.value for v in result.variables)
        return select_result(names, (tuple(solution[i] for i in range(width))
                                     for solution in result), max_rows)
    except (OSError, SyntaxError, ValueError, RuntimeError) as exc:
        raise QueryError(query.where(f"query failed: {first_line(exc)}")) from None


def transport(store: pyoxigraph.Store | Dataset, query: Checked, max_rows: int | None
              ) -> tuple[dict[str, Any], bytes]:
    """Run checked ``query`` and write its result for the trip out of the query process,
    with Oxigraph's own writers: SPARQL JSON results (SELECT, ASK) or N-Triples (a graph).
    Rows past ``max_rows`` stay behind (``truncated``); a graph is cut by the reader,
    once sorted (:func:`kg.results.graph_result`)."""
    import pyoxigraph

    from .results import _json

    try:
        result = store.query(query.text)
        if isinstance(result, pyoxigraph.QueryBoolean):
            return {"type": query.form, "boolean": bool(result)}, b""
        if isinstance(result, pyoxigraph.QueryTriples):
            body = result.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES)
            return {"type": query.form}, body or b""
        if max_rows is None:
            body = result.serialize(format=pyoxigraph.QueryResultsFormat.JSON)
            return {"type": query.form}, body or b""
        width = len(result.variables)
        cut = select_result(tuple(v.value for v in result.variables),
                            (tuple(solution[i] for i in range(width)) for solution in result),
                            max_rows)
        return {"type": query.form, "truncated": cut.truncated}, _json(cut)
    except (OSError, SyntaxError, ValueError, RuntimeError) as exc:
        raise QueryError(query.where(f"query failed: {first_line(exc)}")) from None


def decode_result(header: Mapping[str, Any], body: bytes, max_rows: int | None = None
                  ) -> QueryResult:
    """The :class:`QueryResult` that :func:`transport` sent, read with Oxigraph's parser
    (a graph with rdflib's, sorted and cut at ``max_rows``)."""
    import pyoxigraph

    form = str(header["type"])
    if form == "ASK":
        return QueryResult(form, boolean=bool(header["boolean"]))
    if form in ("CONSTRUCT", "DESCRIBE"):
        from rdflib import Graph

        graph = Graph()
        graph.parse(data=body, format="nt")
        return graph_result(form, graph, max_rows)
    parsed = pyoxigraph.parse_query_results(body, format=pyoxigraph.QueryResultsFormat.JSON)
    assert isinstance(parsed, pyoxigraph.QuerySolutions)
    width = len(parsed.variables)
    return QueryResult(form, vars=tuple(v.value for v in parsed.variables),
                       solutions=[tuple(solution[i] for i in range(width))
                                  for solution in parsed],
                       truncated=bool(header.get("truncated")))


def handle(store: pyoxigraph.Store | Dataset, request: Mapping[str, Any]) -> bytes:
    """The answer of a query process to one request (a frame to send back).

    ``op`` ``run``: run the checked ``text`` (its ``form`` given) and write the result
    in ``fmt`` (None: the default format for ``terminal``), or for the trip back (no
    ``fmt`` at all). ``op`` ``answer``: the endpoint's whole answer to
    a query text (:func:`kg.protocol.answer`: check, negotiate ``accept``, run, write).
    """
    from .results import default_format, serialize

    max_rows = request.get("max_rows")
    try:
        if request["op"] == "answer":
            from .protocol import answer

            response = answer(lambda checked, rows: oxigraph_run(store, checked, rows),
                              request["text"], request.get("accept"), int(max_rows or 0))
            return pack({"status": response.status, "headers": response.headers},
                        response.body)
        query = Checked(request["text"], request["form"], int(request.get("offset", 0)))
        if "fmt" not in request:
            return pack(*transport(store, query, max_rows))
        result = oxigraph_run(store, query, max_rows)
        head = {"type": result.type, "truncated": result.truncated}
        fmt = request["fmt"] or default_format(result, terminal=bool(request.get("terminal")))
        return pack(head, serialize(result, fmt))
    except KgError as exc:
        return pack({"error": type(exc).__name__, "message": str(exc)})
    except MemoryError:
        return pack({"error": "MemoryError", "message": "query stopped: it needed more than "
                                                        "the memory limit"})
    except RecursionError:
        return pack({"error": "QueryError", "message": "query failed: nested too deeply"})


def serve_requests(sock: socket.socket, store: pyoxigraph.Store | Dataset, *,
                   cpu_seconds: float | None = None, retire_above: int | None = None) -> None:
    """A query process's loop: answer each request on ``sock`` until it is closed.
    With ``retire_above``, say so in the answer (``retire``) once the process's address
    space passes it, so that its owner replaces it."""
    from .sandbox import address_space, cpu_budget

    while True:
        try:
            frame = recv_frame(sock)
        except (EOFError, OSError):
            return
        if cpu_seconds is not None:
            cpu_budget(cpu_seconds)
        answer = handle(store, json.loads(frame))
        if retire_above is not None and address_space() > retire_above:
            header, body = unpack(answer)
            answer = pack({**header, "retire": True}, body)
        send_frame(sock, answer)


def _quiet() -> None:
    """Send this query process's standard error to /dev/null: what a dying engine
    prints (Rust's "memory allocation failed", a fault handler's dump) is no message
    for a user; the process that waits for it says what happened, in one line."""
    import faulthandler

    faulthandler.disable()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def _blind_inherited_sockets(keep: int) -> None:
    """Point every socket this process inherited, but ``keep``, at /dev/null: a query
    process talks to no one but its owner. (Not closed: an object of the parent's
    that still holds the number would close whatever took it next.)"""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd in (keep, null):
                continue
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.dup2(null, fd)
            except OSError:
                pass
    except OSError:
        pass
    finally:
        os.close(null)


class Worker:
    """A sandboxed query process forked from this process, reused across queries.

    ``open_store`` gives the store (called in the child, so an in-memory store the
    parent already holds is shared page by page, and an on-disk one is opened by the
    child alone); queries run on it with inference on or off (``infer``, see
    :class:`Dataset`). A query past the timeout, or Ctrl-C while waiting, kills the
    process; the next query starts another.
    """

    def __init__(self, open_store: Callable[[], pyoxigraph.Store],
                 limits: Limits | None = None, *, infer: bool = False) -> None:
        if not hasattr(os, "fork"):
            raise KgError("kg runs queries in a process of their own and needs os.fork "
                          "(Linux or macOS)")
        self.open_store = open_store
        self.infer = infer
        self.limits = limits or Limits()
        self._sock: socket.socket | None = None
        self._pid: int | None = None

    def _start(self) -> socket.socket:
        from .sandbox import check_platform, required

        if required():  # fail here, with the reason, rather than in the child
            check_platform()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the query process: never returns into the caller's code
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once
                signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                mine.close()
                _blind_inherited_sockets(theirs.fileno())
                _quiet()
                from .sandbox import confine

                try:
                    store = Dataset(self.open_store(), self.infer)
                    confine(memory=self.limits.memory)
                except KgError as exc:
                    send_frame(theirs, pack({"error": type(exc).__name__, "message": str(exc)}))
                    raise
                send_frame(theirs, pack({"ready": True}))
                timeout = self.limits.timeout
                serve_requests(theirs, store,
                               cpu_seconds=timeout + 1 if timeout else None)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._sock, self._pid = mine, pid
        try:
            header, _ = unpack(recv_frame(mine))
        except (EOFError, OSError, ValueError) as exc:
            self.close()
            raise QueryError(f"the query process did not start ({first_line(exc)})") from None
        except BaseException:
            self.close()
            raise
        if "error" in header:
            self.close()
            raise _error(header)
        return mine

    def request(self, request: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Send one request, wait for its answer (up to the timeout); raise the query
        process's error, QueryTimeout or QueryKilled."""
        sock = self._sock or self._start()
        timeout = self.limits.timeout
        deadline = time.monotonic() + timeout if timeout else None
        try:
            sock.settimeout(None)  # the last wait may have left a short timeout behind
            send_frame(sock, json.dumps(request).encode("utf-8"))
            header, body = unpack(recv_frame(sock, deadline))
        except TimeoutError:
            self.close()
            raise QueryTimeout(f"query stopped: it ran longer than the timeout of "
                               f"{timeout:g} s") from None
        except (EOFError, OSError, ValueError):
            detail = self._death()
            raise QueryKilled(self.limits.describe_death(detail)) from None
        except BaseException:  # Ctrl-C, or anything else: the query dies with the wait
            self.close()
            raise
        if "error" in header:
            raise _error(header)
        return header, body

    def run(self, query: Checked, max_rows: int | None = None) -> QueryResult:
        """Run checked ``query`` in the query process; the result comes back whole."""
        header, body = self.request(self._run_request(query, max_rows))
        return decode_result(header, body, max_rows)

    def write(self, query: Checked, max_rows: int | None, fmt: str | None, *,
              terminal: bool = False) -> tuple[bytes, bool]:
        """Run checked ``query`` in the query process and have it write the result in
        ``fmt`` (None: the default for ``terminal``); the bytes, and whether rows were
        cut at ``max_rows``."""
        request = {**self._run_request(query, max_rows), "fmt": fmt, "terminal": terminal}
        header, body = self.request(request)
        return body, bool(header.get("truncated"))

    @staticmethod
    def _run_request(query: Checked, max_rows: int | None) -> dict[str, Any]:
        return {"op": "run", "text": query.text, "form": query.form, "offset": query.offset,
                "max_rows": max_rows}

    def _death(self) -> str:
        """Why the query process died (it is reaped and forgotten)."""
        pid = self._pid
        if self._sock is not None:
            self._sock.close()
        self._sock = self._pid = None
        if pid is None:
            return "unknown"
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return "unknown"
        if os.WIFSIGNALED(status):
            return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit status {os.WEXITSTATUS(status)}"

    def close(self) -> None:
        """Kill the query process, if any, and reap it."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._death()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


def _error(header: Mapping[str, Any]) -> KgError:
    """The error a query process reported, as the same kind of KgError."""
    from . import errors
    from .sandbox import SandboxUnavailable

    kinds: dict[str, type[KgError]] = {
        "SandboxUnavailable": SandboxUnavailable, "MemoryError": QueryError,
        **{name: getattr(errors, name) for name in ("QueryError", "QueryRefused",
                                                     "UsageError", "DataError",
                                                     "BuildNotFoundError")}}
    return kinds.get(str(header["error"]), KgError)(str(header["message"]))


# --------------------------------------------------------------------------- the zygote


def zygote(control: socket.socket, store: pyoxigraph.Store | Dataset, *, memory: int | None,
           cpu_seconds: float | None) -> None:
    """The endpoint's zygote: for each socket received on ``control``, fork a query
    process that owns it (its first frame: its pid), then close it here."""
    import gc

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server
    gc.freeze()  # keep the graph's pages shared with the children
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not msg:
            return  # the server closed its end
        for fd in fds:
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    control.close()
                    _quiet()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    sock = socket.socket(fileno=fd)
                    from .sandbox import address_space, confine

                    retire = address_space() + memory // 2 if memory else None
                    confine(memory=memory, network=True)  # the zygote took the network
                    send_frame(sock, pack({"pid": os.getpid()}))
                    serve_requests(sock, store, cpu_seconds=cpu_seconds, retire_above=retire)
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            os.close(fd)


def warm(store: pyoxigraph.Store | Dataset) -> None:
    """Answer one query of each form in every format, so that the parser, the checker
    and every writer are loaded before the zygote forks, not in each worker."""
    from .protocol import GRAPH_MEDIA_TYPES, RESULT_MEDIA_TYPES

    for text in ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ASK { ?s ?p ?o }",
                 "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"):
        for media, _ in (*RESULT_MEDIA_TYPES, *GRAPH_MEDIA_TYPES):
            handle(store, {"op": "answer", "text": text, "accept": media, "max_rows": 1})


def main(argv: list[str] | None = None) -> None:
    """``python -m kg.engine --build DIR --fd N [--memory BYTES] [--cpu SECONDS]
    [--sha256 HEX] [--infer]``: the endpoint's zygote, started by :mod:`kg.server`
    (``--infer``: queries see the inferred triples too). Started again after a crash,
    it refuses a build that is no longer the one the server started with (its answers,
    and the server's cache of them, are of that one)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m kg.engine")
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--fd", required=True, type=int)
    parser.add_argument("--memory", type=int)
    parser.add_argument("--cpu", type=float)
    parser.add_argument("--sha256", help="the graph.nt the server started with")
    parser.add_argument("--infer", action="store_true", help="inference on")
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.fd)
    from .paths import GRAPH_NT
    from .sandbox import confine
    from .store import load_build

    try:
        build = load_build(args.build)
        if args.sha256 and build.manifest.get("outputs", {}).get(GRAPH_NT) != args.sha256:
            raise KgError(f"the build in {args.build} changed while kg serve ran (a new "
                          "'kg build'?): restart kg serve to serve it")
        store = Dataset(build.inferred_store if args.infer else build.store, args.infer)
        warm(store)
        confine()  # no network, for the zygote and every worker it forks
    except KgError as exc:
        send_frame(control, pack({"error": type(exc).__name__, "message": str(exc)}))
        sys.exit(1)
    send_frame(control, pack({"ready": True, "triples": len(store)}))
    zygote(control, store, memory=args.memory, cpu_seconds=args.cpu)


if __name__ == "__main__":
    main()
