"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint at ``/sparql``, and a page at ``/``.

The HTTP side is the standard library's :class:`~http.server.ThreadingHTTPServer`: one
thread per connection, which parses the request, negotiates nothing heavy and waits.

Queries are evaluated in processes of their own, because neither Oxigraph's Python
binding nor rdflib has a query timeout:

* before the server starts a thread, it loads the graph (the build, in an in-memory
  Oxigraph store: :class:`kg.store.MemoryBackend`), warms rdflib's SPARQL parser (kg's
  check) and forks a *zygote*: a single-threaded process that holds the graph and does
  nothing but fork;
* for each query, the request thread hands the zygote one end of a new socket pair; the
  zygote forks a child that owns it. The child sends its pid, reads the query, checks it
  (:func:`kg.queries.prepare`: SERVICE, FROM and updates are refused before anything is
  evaluated), runs it on the backend, serialises the result in the negotiated format
  and sends it back;
* the request thread waits at most ``timeout`` seconds for the answer. A query still
  running then is killed (SIGKILL) and the client gets 503; the other requests go on.
  Each child also has a CPU-time limit, so a runaway query dies even if the server does.

Forking only from the single-threaded zygote avoids forking a threaded process (whose
locks may be held by other threads). The server itself makes no outbound connection,
and neither does the engine once SERVICE and FROM are refused. Everything runs on POSIX
(Linux, macOS); Windows has no fork.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import logging
import math
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import __version__
from .errors import KgError, QueryError, QueryRefused
from .queries import MAX_QUERY_BYTES, NamedQuery, form_of, prepare, serialize, standalone

if TYPE_CHECKING:
    from .store import Backend

log = logging.getLogger("kg.server")

#: The largest request body accepted (a form-encoded query can be three times the text).
MAX_BODY_BYTES = 4 * MAX_QUERY_BYTES

#: Media types offered for SELECT and ASK results, best first, with kg's format names.
RESULT_MEDIA_TYPES: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("application/xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
)
#: Media types offered for CONSTRUCT and DESCRIBE results (formats of kg.export.FORMATS).
GRAPH_MEDIA_TYPES: tuple[tuple[str, str], ...] = (
    ("text/turtle", "ttl"),
    ("application/turtle", "ttl"),
    ("application/x-turtle", "ttl"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "jsonld"),
)
_TEXT_TYPES = ("text/", "application/n-triples")


@dataclass(frozen=True)
class ServerConfig:
    """How ``kg serve`` runs. Loopback only unless ``host`` says otherwise."""

    host: str = "127.0.0.1"
    port: int = 7878
    #: seconds a query may run before it is killed (503)
    timeout: float = 10.0
    #: rows (or triples) a result may have; more are cut off and X-Kg-Truncated is set
    max_rows: int = 10_000
    #: queries evaluated at once; more wait for a slot (up to ``timeout``)
    max_concurrent: int = 16


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def text(cls, status: int, message: str) -> Response:
        """A plain-text message (one line; never a traceback)."""
        return cls(status, (message.strip() + "\n").encode("utf-8"),
                   (("Content-Type", "text/plain; charset=utf-8"),))


# --------------------------------------------------------------------------- protocol


def negotiate(accept: str | None,
              offers: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """The offer (media type, format) that ``accept`` (an HTTP Accept header) likes best,
    or None if it accepts none. Each offer takes the quality of the most specific range
    that matches it; ties go to the earlier offer. No header means ``*/*``."""
    ranges: list[tuple[str, str, float]] = []
    for item in (accept or "*/*").split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if "/" not in media:
            continue
        main, sub = media.split("/", 1)
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((main, sub, q))
    best: tuple[float, int, tuple[str, str]] | None = None
    for index, offer in enumerate(offers):
        main, sub = offer[0].split("/", 1)
        matches = [(2 if (m, s) == (main, sub) else 1 if (m, s) == (main, "*") else 0, q)
                   for m, s, q in ranges
                   if (m, s) in ((main, sub), (main, "*"), ("*", "*"))]
        if not matches:
            continue
        q = max(matches)[1]
        if q > 0 and (best is None or q > best[0]):
            best = (q, index, offer)
    return best[2] if best else None


def answer(backend: Backend, text: str, accept: str | None, max_rows: int) -> Response:
    """The HTTP response to query ``text``: the result in the format ``accept`` likes,
    403 for a query kg refuses, 400 for a bad one, 406 if no format fits."""
    try:
        query = prepare(text)
    except QueryRefused as exc:
        return Response.text(403, str(exc))
    except QueryError as exc:
        return Response.text(400, str(exc))
    form = form_of(query)
    if form in ("CONSTRUCT", "DESCRIBE"):
        offers = GRAPH_MEDIA_TYPES
    elif form == "ASK":
        offers = tuple(o for o in RESULT_MEDIA_TYPES if o[1] not in ("csv", "tsv"))
    else:
        offers = RESULT_MEDIA_TYPES
    chosen = negotiate(accept, offers)
    if chosen is None:
        return Response.text(406, f"none of the accepted media types ({accept}) can carry "
                                  f"{form} results; this endpoint offers "
                                  + ", ".join(media for media, _ in offers))
    media, fmt = chosen
    try:
        result = backend.run(standalone(text), form, max_rows)
    except QueryError as exc:
        return Response.text(400, str(exc))
    headers = [("Content-Type", media + ("; charset=utf-8" if media.startswith(_TEXT_TYPES)
                                         else ""))]
    if result.truncated:
        headers.append(("X-Kg-Truncated", f"max-rows={max_rows}"))
    return Response(200, serialize(result, fmt), tuple(headers))


# --------------------------------------------------------------------------- processes


class QueryRunner:
    """Runs each query in a child of a zygote process, killing it at the timeout."""

    def __init__(self, backend: Backend, *, max_rows: int, timeout: float) -> None:
        if not hasattr(os, "fork"):
            raise KgError("kg serve needs os.fork (Linux or macOS)")
        _warm(backend)
        self.max_rows = max_rows
        cpu_seconds = max(1, math.ceil(timeout)) + 1
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = _fork(control, _zygote, theirs, backend, max_rows, cpu_seconds)
        theirs.close()
        #: the zygote's pid (its children are the query processes)
        self.pid = pid
        self._control = control
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._closed = False

    def run(self, text: str, accept: str | None, deadline: float) -> Response | None:
        """The answer to query ``text``, or None if it is not done by ``deadline`` (a
        :func:`time.monotonic` time), when its process is killed."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                if self._closed:
                    return Response.text(503, "the server is shutting down")
                socket.send_fds(self._control, [b"q"], [theirs.fileno()])
        except OSError:
            mine.close()
            return Response.text(503, "the query processes are not running")
        finally:
            theirs.close()
        conn = Connection(mine.detach())
        pid: int | None = None
        try:
            conn.send_bytes(json.dumps({"query": text, "accept": accept}).encode("utf-8"))
            if conn.poll(max(deadline - time.monotonic(), 0)):
                pid = int(conn.recv_bytes())
                with self._lock:
                    self._running.add(pid)
                if conn.poll(max(deadline - time.monotonic(), 0)):
                    head, _, body = conn.recv_bytes().partition(b"\0")
                    meta = json.loads(head)
                    return Response(int(meta["status"]), body,
                                    tuple((str(k), str(v)) for k, v in meta["headers"]))
                _kill(pid)
            return None
        except (EOFError, OSError, ValueError, KeyError):
            return Response.text(500, "the query process failed (out of memory or CPU time?)")
        finally:
            if pid is not None:
                with self._lock:
                    self._running.discard(pid)
            conn.close()

    def close(self) -> None:
        """Kill the running queries and the zygote, and wait for the zygote to exit."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running)
        self._control.close()
        for pid in running:
            _kill(pid)
        _kill(self.pid, signal.SIGTERM)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _warm(backend: Backend) -> None:
    """Run one query of each form and serialise it in every format, so that the graph,
    the parser's grammar and every plugin are loaded once, before forking, not in each
    child."""
    for text in ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "ASK { ?s ?p ?o }",
                 "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"):
        result = backend.run(text, form_of(prepare(text)), 1)
        offers = GRAPH_MEDIA_TYPES if result.graph is not None else RESULT_MEDIA_TYPES
        for fmt in {f for _, f in offers}:
            if result.type != "ASK" or fmt not in ("csv", "tsv"):
                serialize(result, fmt)


def _fork(close: socket.socket, target: Callable[..., None], *args: Any) -> int:
    """Fork; the child closes ``close``, runs ``target(*args)`` and exits (status 1 if
    it raised), never returning into the parent's code. Returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            close.close()
            target(*args)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    return pid


def _zygote(control: socket.socket, backend: Backend, max_rows: int,
            cpu_seconds: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which closes us
    gc.freeze()  # keep the graph's pages shared with the children
    while True:
        msg, fds, _, _ = socket.recv_fds(control, 1, 1)
        if not msg:
            return  # the server closed its end
        for fd in fds:
            _fork(control, _child, fd, backend, max_rows, cpu_seconds)
            os.close(fd)


def _child(fd: int, backend: Backend, max_rows: int, cpu_seconds: int) -> None:
    import resource

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    conn = Connection(fd)
    conn.send_bytes(str(os.getpid()).encode())
    request = json.loads(conn.recv_bytes())
    try:
        response = answer(backend, request["query"], request["accept"], max_rows)
    except Exception as exc:  # a bug, not the query's fault: say so, in one line
        response = Response.text(500, f"internal error: {type(exc).__name__}: {exc}")
    head = json.dumps({"status": response.status, "headers": response.headers})
    conn.send_bytes(head.encode("utf-8") + b"\0" + response.body)
    try:
        conn.recv_bytes()  # stay alive (so the pid stays ours) until the server hangs up
    except (EOFError, OSError):
        pass


def _one_line(text: str, limit: int = 120) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --------------------------------------------------------------------------- HTTP


class SparqlServer(ThreadingHTTPServer):
    """The endpoint. Create it before starting any thread (it forks), call
    ``serve_forever()``, and ``server_close()`` when done (it stops the processes)."""

    daemon_threads = True

    def __init__(self, backend: Backend, queries: Mapping[str, NamedQuery],
                 config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.page, self.page_csp = render_page(queries, self.config)
        self.slots = threading.BoundedSemaphore(self.config.max_concurrent)
        self.runner = QueryRunner(backend, max_rows=self.config.max_rows,
                                  timeout=self.config.timeout)
        if ":" in self.config.host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((self.config.host, self.config.port), _Handler)
        except OSError as exc:
            self.runner.close()
            raise KgError(f"cannot listen on {self.config.host} port {self.config.port}: "
                          f"{exc.strerror or exc}") from None

    @property
    def url(self) -> str:
        """The server's base URL, ending in ``/``."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def query(self, text: str, accept: str | None) -> Response:
        """Answer one query: wait for a free slot, then run it in a child process."""
        if len(text.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES:
            return Response.text(413, f"query too long: the limit is {MAX_QUERY_BYTES:,} bytes")
        timeout = self.config.timeout
        deadline = time.monotonic() + timeout
        if not self.slots.acquire(timeout=timeout):
            return Response.text(503, f"server busy: {self.config.max_concurrent} queries are "
                                      "running; try again later")
        try:
            response = self.runner.run(text, accept, deadline)
        finally:
            self.slots.release()
        if response is None:
            log.warning("query stopped after %g s: %s", timeout, _one_line(text))
            return Response.text(503, f"query stopped: it ran longer than the server's "
                                      f"timeout of {timeout:g} s")
        return response

    def server_close(self) -> None:
        super().server_close()
        self.runner.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("error while handling a request from %s", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    server_version = f"kg/{__version__}"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    #: seconds to wait for a slow client before closing its connection
    timeout = 30

    # --- dispatch -------------------------------------------------------------------

    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server's naming)
        self._send(Response(204, b"", (
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", "Accept, Content-Type"),
            ("Access-Control-Max-Age", "86400"),
        )))

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(Response(200, self.server.page, (
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Security-Policy", self.server.page_csp),
                ("X-Frame-Options", "DENY"),
                ("Referrer-Policy", "no-referrer"),
            )))
        elif url.path == "/sparql":
            params = self._form(url.query)
            if params is not None:
                self._sparql(params, None)
        else:
            self._send(Response.text(404, f"not found: {url.path} (the endpoint is /sparql)"))

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != "/sparql":
            self.close_connection = True
            self._send(Response.text(404, f"not found: {url.path} (the endpoint is /sparql)"))
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/sparql-update":
            self.close_connection = True
            self._send(_READ_ONLY)
            return
        if ctype not in ("application/x-www-form-urlencoded", "application/sparql-query"):
            self.close_connection = True
            self._send(Response.text(415, "send the query as application/sparql-query or as "
                                          "a form (application/x-www-form-urlencoded)"))
            return
        body = self._body()
        if body is None:
            return
        params = self._form(url.query)
        if params is None:
            return
        if ctype == "application/sparql-query":
            self._sparql(params, body)
            return
        form = self._form(body)
        if form is not None:
            for key, values in form.items():
                params.setdefault(key, []).extend(values)
            self._sparql(params, None)

    do_HEAD = do_GET  # noqa: N815 (the same headers, no body: see _send)

    def _refuse_method(self) -> None:
        self.close_connection = True
        self._send(Response(405, b"this endpoint only reads: use GET or POST\n", (
            ("Allow", "GET, POST, OPTIONS"), ("Content-Type", "text/plain; charset=utf-8"))))

    do_PUT = do_DELETE = do_PATCH = _refuse_method  # noqa: N815

    # --- SPARQL ---------------------------------------------------------------------

    def _sparql(self, params: dict[str, list[str]], body_query: str | None) -> None:
        if "update" in params:
            self._send(_READ_ONLY)
            return
        if "default-graph-uri" in params or "named-graph-uri" in params:
            self._send(Response.text(403, "default-graph-uri and named-graph-uri are not "
                                          "allowed: a query runs over kg's graph only"))
            return
        queries = [body_query] if body_query is not None else params.get("query", [])
        if len(queries) != 1:
            self._send(Response.text(400, "pass exactly one query (query=... or a body of "
                                          "type application/sparql-query)"))
            return
        response = self.server.query(queries[0], self.headers.get("Accept"))
        self._send(response)

    # --- plumbing -------------------------------------------------------------------

    def _body(self) -> str | None:
        """The request body as text, or None after sending the error."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._send(Response.text(411, "send a Content-Length (chunked bodies are not "
                                          "accepted)"))
            return None
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self.close_connection = True
            self._send(Response.text(411, "a POST needs a Content-Length"))
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(Response.text(413, f"request body too large: the limit is "
                                          f"{MAX_BODY_BYTES:,} bytes"))
            return None
        data = self.rfile.read(length)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self._send(Response.text(400, "the request body is not UTF-8"))
            return None

    def _form(self, text: str) -> dict[str, list[str]] | None:
        """URL-encoded parameters, or None after sending the error."""
        try:
            return parse_qs(text, keep_blank_values=True, strict_parsing=False,
                            encoding="utf-8", errors="strict", max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            self._send(Response.text(400, "malformed parameters (not UTF-8, or too many)"))
            return None

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "X-Kg-Truncated")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        if urlsplit(self.path).path == "/sparql":
            self.send_header("Vary", "Accept")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        log.info("%s %s", self.address_string(), format % args)


_READ_ONLY = Response.text(403, "SPARQL Update is not accepted: this endpoint is read-only")


# --------------------------------------------------------------------------- the page


def render_page(queries: Mapping[str, NamedQuery], config: ServerConfig) -> tuple[bytes, str]:
    """The page at ``/`` (HTML with its style and script inline) and the
    Content-Security-Policy that allows exactly those and requests to this server."""
    from .vocab import PREFIXES

    template = (resources.files("kg") / "templates" / "sparql.html").read_text("utf-8")
    examples = [{"name": q.name, "title": q.title, "description": q.description,
                 "params": [str(p) for p in q.params], "query": q.bind()}
                for q in queries.values()]
    data = json.dumps({"examples": examples, "maxRows": config.max_rows,
                       "timeout": config.timeout,
                       "prefixes": {p: str(ns) for p, ns in PREFIXES.items()}},
                      ensure_ascii=False)
    # JSON inside <script>: no '<', '>' or '&' can end the element or start markup
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = template.replace("__KG_DATA__", data)

    def digest(pattern: str) -> str:
        m = re.search(pattern, template, re.S)
        if m is None:
            raise KgError(f"kg/templates/sparql.html: no {pattern!r}")
        raw = hashlib.sha256(m.group(1).encode("utf-8")).digest()
        return "'sha256-" + base64.b64encode(raw).decode("ascii") + "'"

    csp = ("default-src 'none'; "
           f"script-src {digest(r'<script>(.*?)</script>')}; "
           f"style-src {digest(r'<style>(.*?)</style>')}; "
           "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'")
    return page.encode("utf-8"), csp


def serve(server: SparqlServer) -> None:
    """Serve until SIGINT or SIGTERM, then stop the query processes and close."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
