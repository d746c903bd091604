"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint at ``/sparql``, a page at ``/``
and ``/health``.

Three kinds of process, so that no query can take the server down with it:

* the **front end** (this module): one asyncio event loop serving HTTP with aiohttp,
  on a socket with a real listen backlog. It parses requests, answers repeated queries
  from a bounded cache of results (a build never changes while it is served), and
  hands the others to a free worker. Admission is bounded: at most ``queue`` requests
  wait for a worker; beyond that, or past the timeout while waiting, the answer is 503
  with ``Retry-After``, never a hang;
* the **zygote** (``python -m kg.engine``): a fresh single-threaded interpreter that
  loads the build into an in-memory Oxigraph store, warms the checker and every result
  writer, puts itself in the network sandbox (:mod:`kg.sandbox`), and forks workers
  that share its pages;
* the **workers** (``workers`` of them, kept alive): each checks a query text
  (:func:`kg.check.check`), runs exactly the checked text and writes the result in the
  negotiated format (:func:`kg.protocol.answer`). A worker cannot open a socket, its
  address space is capped at the graph plus ``memory``, and each query has a CPU-time
  budget.

A **supervisor** task replaces what dies: a worker killed at the wall-clock timeout, a
worker that died of its memory cap (the client gets 500 and the reason), a worker that
grew past half its budget (retired after answering), and the zygote itself (started
again; the workers it forked go on meanwhile). ``/health`` says whether queries can
run. POSIX only (the zygote forks); the sandbox needs Linux.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import __version__
from .check import MAX_QUERY_BYTES, canonical
from .engine import recv_frame, unpack
from .errors import KgError, QueryError
from .protocol import Response

if TYPE_CHECKING:
    from aiohttp import web

    from .queries import NamedQuery
    from .store import Build, MemoryBackend

log = logging.getLogger("kg.server")

#: The largest request body accepted (a form-encoded query can be three times the text).
MAX_BODY_BYTES = 4 * MAX_QUERY_BYTES


@dataclass(frozen=True)
class ServerConfig:
    """How ``kg serve`` runs. Loopback only unless ``host`` says otherwise."""

    host: str = "127.0.0.1"
    port: int = 7878
    #: seconds a query may take, waiting for a worker included (then 503)
    timeout: float = 10.0
    #: rows (or triples) a result may have; more are cut off and X-Kg-Truncated is set
    max_rows: int = 10_000
    #: query workers kept running (each evaluates one query at a time)
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    #: requests that may wait for a worker; more get 503 with Retry-After
    queue: int = 512
    #: bytes of memory a worker may use beyond the graph it shares
    memory: int = 1024**3
    #: bytes of answers kept to answer the same query again (0: no cache)
    cache_bytes: int = 64 * 1024**2
    #: connections the kernel queues before the server accepts them
    backlog: int = 1024
    #: inference on: queries also see the inferred triples (kg.infer), and every
    #: answer of /sparql says which in its X-Kg-Inference header
    infer: bool = False


# --------------------------------------------------------------------------- the pool


@dataclass
class _Worker:
    pid: int
    sock: socket.socket
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.writer is not None:
            self.writer.close()
        else:
            self.sock.close()


class Pool:
    """The zygote and its workers, as the front end sees them."""

    def __init__(self, build_path: Path, config: ServerConfig) -> None:
        if not hasattr(os, "fork"):
            raise KgError("kg serve needs os.fork (Linux or macOS)")
        from .paths import GRAPH_NT
        from .store import read_manifest

        self.build_path = build_path
        manifest = read_manifest(build_path)
        #: the graph the server serves: a zygote started again must load this one
        self.sha256 = str(manifest.get("outputs", {}).get(GRAPH_NT, ""))
        if config.infer:
            from .store import Build

            Build(build_path, manifest).inferred_data()  # none: say so in one line
        self.config = config
        self.zygote: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._zygote_lock = threading.Lock()
        self.idle: asyncio.Queue[_Worker] | None = None
        self.workers: dict[int, _Worker] = {}
        self.waiting = 0
        self.restarts = {"workers": 0, "zygote": 0}
        self._closed = False
        self.start_zygote()

    # --- processes (blocking: called before the loop runs, or in its executor) ----

    def start_zygote(self) -> None:
        """Start a zygote and wait until it has loaded the graph."""
        with self._zygote_lock:
            if self.zygote is not None and self.zygote.poll() is None:
                return
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            cmd = [sys.executable, "-m", "kg.engine", "--build", str(self.build_path),
                   "--fd", str(theirs.fileno()), "--memory", str(self.config.memory),
                   "--cpu", str(self.config.timeout + 1), "--sha256", self.sha256,
                   *(["--infer"] if self.config.infer else [])]
            try:
                proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()],
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            finally:
                theirs.close()
            try:
                header, _ = unpack(recv_frame(ours, time.monotonic() + 600))
            except (EOFError, OSError, TimeoutError, ValueError):
                proc.kill()
                proc.wait()
                ours.close()
                raise KgError("the query processes did not start (see the messages "
                              "above)") from None
            if "error" in header:
                proc.wait()
                ours.close()
                raise KgError(str(header["message"]))
            if self._control is not None:
                self._control.close()
            self.zygote, self._control = proc, ours
            if self.restarts["zygote"] or self._closed:
                log.warning("query processes: zygote %d started", proc.pid)

    def fork_worker(self) -> _Worker:
        """A new worker, forked by the zygote (started again if it died)."""
        for attempt in (1, 2):
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                control = self._control
                if control is None:
                    raise OSError("no zygote")
                socket.send_fds(control, [b"w"], [theirs.fileno()])
                header, _ = unpack(recv_frame(mine, time.monotonic() + 30))
                return _Worker(int(header["pid"]), mine)
            except (EOFError, OSError, TimeoutError, ValueError, KeyError):
                mine.close()
                if attempt == 2 or self._closed:
                    raise KgError("cannot start a query worker") from None
                self.restarts["zygote"] += 1
                log.warning("query processes: the zygote is gone; starting another")
                self.start_zygote()
            finally:
                theirs.close()
        raise AssertionError("unreachable")

    # --- in the loop -----------------------------------------------------------

    async def start(self) -> None:
        self.idle = asyncio.Queue()
        for _ in range(self.config.workers):
            await self._add_worker()

    async def _add_worker(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            try:
                worker = await loop.run_in_executor(None, self.fork_worker)
                break
            except KgError as exc:
                log.error("query processes: %s; trying again in 1 s", exc)
                await asyncio.sleep(1)
        else:
            return
        worker.sock.setblocking(False)
        worker.reader, worker.writer = await asyncio.open_unix_connection(sock=worker.sock)
        self.workers[worker.pid] = worker
        assert self.idle is not None
        self.idle.put_nowait(worker)

    def _drop(self, worker: _Worker, *, replace: bool = True) -> None:
        worker.kill()
        self.workers.pop(worker.pid, None)
        if replace and not self._closed:
            self.restarts["workers"] += 1
            asyncio.get_running_loop().create_task(self._add_worker())

    async def supervise(self) -> None:
        """Every second: start the zygote again if it died, and replace idle workers
        that died (killed from outside, say)."""
        loop = asyncio.get_running_loop()
        while not self._closed:
            await asyncio.sleep(1)
            if self.zygote is not None and self.zygote.poll() is not None and not self._closed:
                self.restarts["zygote"] += 1
                log.warning("query processes: the zygote exited (%s); starting another",
                            self.zygote.returncode)
                try:
                    await loop.run_in_executor(None, self.start_zygote)
                except KgError as exc:
                    log.error("query processes: %s", exc)
            for worker in list(self.workers.values()):
                if not worker.alive():
                    log.warning("query processes: worker %d is gone; starting another",
                                worker.pid)
                    self._drop(worker)

    async def answer(self, text: str, accept: str | None) -> Response:
        """The response to one query text, from a worker, within the timeout."""
        config = self.config
        assert self.idle is not None
        if self.waiting >= config.queue and self.idle.empty():
            return _busy(f"server busy: {config.queue} queries are waiting; try again "
                         "later")
        deadline = time.monotonic() + config.timeout
        self.waiting += 1
        try:
            while True:
                try:
                    worker = await asyncio.wait_for(self.idle.get(),
                                                    max(deadline - time.monotonic(), 0))
                except TimeoutError:
                    return _busy(f"server busy: no query worker came free within the "
                                 f"timeout of {config.timeout:g} s; try again later")
                if worker.pid in self.workers and worker.alive():
                    break
                self._drop(worker)  # died while idle: not this query's fault
        finally:
            self.waiting -= 1
        assert worker.reader is not None and worker.writer is not None
        request = json.dumps({"op": "answer", "text": text, "accept": accept,
                              "max_rows": config.max_rows}).encode("utf-8")
        try:
            worker.writer.write(len(request).to_bytes(8, "big") + request)
            frame = await asyncio.wait_for(_read_frame(worker.reader),
                                           max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            self._drop(worker)
            log.warning("query stopped after %g s: %s", config.timeout, _one_line(text))
            return Response.text(503, f"query stopped: it ran longer than the server's "
                                      f"timeout of {config.timeout:g} s",
                                 (("Retry-After", "1"),))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self._drop(worker)
            log.warning("query process died: %s", _one_line(text))
            return Response.text(500, f"query stopped: its process died; most likely it "
                                      f"needed more than the server's memory limit of "
                                      f"{config.memory // 1024**2:,} MiB")
        except BaseException:
            self._drop(worker)
            raise
        header, body = unpack(frame)
        if header.get("retire"):
            self._drop(worker)
        else:
            self.idle.put_nowait(worker)
        return Response(int(header["status"]), body,
                        tuple((str(k), str(v)) for k, v in header["headers"]))

    def health(self) -> dict[str, Any]:
        live = [w for w in self.workers.values() if w.alive()]
        zygote = self.zygote is not None and self.zygote.poll() is None
        idle = self.idle.qsize() if self.idle is not None else 0
        return {"status": "ok" if live else "unavailable",
                "queries": "can run" if live else "cannot run: no query worker is alive",
                "workers": {"configured": self.config.workers, "alive": len(live),
                            "idle": idle, "busy": max(len(live) - idle, 0)},
                "waiting": self.waiting, "zygote": zygote, "restarts": dict(self.restarts)}

    def close(self) -> None:
        """Kill the workers and the zygote (blocking)."""
        self._closed = True
        for worker in list(self.workers.values()):
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.workers.clear()
        if self._control is not None:
            self._control.close()
        if self.zygote is not None:
            self.zygote.kill()
            self.zygote.wait()


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size = int.from_bytes(await reader.readexactly(8), "big")
    return await reader.readexactly(size)


def _busy(message: str) -> Response:
    return Response.text(503, message, (("Retry-After", "1"),))


def _one_line(text: str, limit: int = 120) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class ResultCache:
    """Answers kept by (query text, Accept header), and by the raw query string of a GET,
    least recently used out first, up to ``limit`` bytes. Only answers that the same
    request always gets are kept: results, and refusals of malformed or forbidden
    queries; never a 5xx."""

    KEEP = frozenset({200, 400, 403, 406})

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: collections.OrderedDict[tuple[str | None, ...], Response] = (
            collections.OrderedDict())

    def get(self, key: tuple[str | None, ...]) -> Response | None:
        response = self._items.get(key)
        if response is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return response

    @staticmethod
    def _cost(key: tuple[str | None, ...], response: Response) -> int:
        return len(response.body) + sum(len(part) for part in key if part) + 256

    def put(self, key: tuple[str | None, ...], response: Response) -> None:
        cost = self._cost(key, response)
        if response.status not in self.KEEP or cost > self.limit // 8 or key in self._items:
            return
        self._items[key] = response
        self.size += cost
        while self.size > self.limit:
            old_key, old = self._items.popitem(last=False)
            self.size -= self._cost(old_key, old)

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._items), "bytes": self.size, "limit": self.limit,
                "hits": self.hits, "misses": self.misses}


# --------------------------------------------------------------------------- HTTP


_READ_ONLY = Response.text(403, "SPARQL Update is not accepted: this endpoint is read-only")
_METHOD_NOT_ALLOWED = Response(405, b"this endpoint only reads: use GET or POST\n", (
    ("Allow", "GET, HEAD, POST, OPTIONS"), ("Content-Type", "text/plain; charset=utf-8")))
#: Headers on every answer: CORS open, no sniffing, no caching by others.
_COMMON_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Kg-Truncated, X-Kg-Inference",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Server": f"kg/{__version__}",
}
_ALLOW = "GET, HEAD, POST, OPTIONS"
_FORM = "application/x-www-form-urlencoded"


class SparqlServer:
    """The endpoint. Create it (it starts the query processes and binds the port, and
    raises KgError if it cannot), then ``serve_forever()`` in one thread; ``shutdown()``
    from another (or SIGINT/SIGTERM via :func:`serve`) stops it, ``server_close()``
    stops the processes."""

    def __init__(self, source: Build | MemoryBackend | Path, queries: Mapping[str, NamedQuery],
                 config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.page, self.page_csp = render_page(queries, self.config)
        from .store import MemoryBackend

        build = source.build if isinstance(source, MemoryBackend) else source
        if isinstance(source, MemoryBackend) and source.infer and not self.config.infer:
            self.config = replace(self.config, infer=True)  # the backend asks for it
        self.pool = Pool(build if isinstance(build, Path) else build.path, self.config)
        self.cache = ResultCache(self.config.cache_bytes)
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        try:
            self.socket = socket.create_server((self.config.host, self.config.port),
                                               family=family, backlog=self.config.backlog)
        except OSError as exc:
            self.pool.close()
            raise KgError(f"cannot listen on {self.config.host} port {self.config.port}: "
                          f"{exc.strerror or exc}") from None
        self.server_address = self.socket.getsockname()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        #: set when serve_forever has returned (its loop let go of the socket)
        self._served = threading.Event()
        self._serving = False

    @property
    def url(self) -> str:
        """The server's base URL, ending in ``/``."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    # --- running ----------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (blocking; runs its own event loop)."""
        self._serving = True
        try:
            asyncio.run(self._serve())
        finally:
            self._served.set()

    async def _serve(self) -> None:
        from aiohttp import web

        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if self._stopping.is_set():  # shut down before it started
            return
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.on_response_prepare.append(self._add_headers)
        app.router.add_route("*", "/sparql", self._sparql)
        app.router.add_route("*", "/health", self._health)
        app.router.add_route("*", "/", self._page)
        app.router.add_route("*", "/index.html", self._page)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        access_log = log if log.isEnabledFor(logging.INFO) else None
        runner = web.AppRunner(app, access_log=access_log, handle_signals=False,
                               access_log_format='%a "%r" %s %b %Tfs')
        await runner.setup()
        await self.pool.start()
        supervisor = asyncio.create_task(self.pool.supervise())
        site = web.SockSite(runner, self.socket, backlog=self.config.backlog)
        await site.start()
        try:
            await self._stop.wait()
        finally:
            supervisor.cancel()
            await runner.cleanup()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (from another thread or a signal handler)."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)

    def server_close(self, timeout: float = 30.0) -> None:
        """Stop the query processes and close the listening socket, once a
        :meth:`serve_forever` that was stopped from another thread has let go of it
        (closing it under the loop's feet made its clean-up fail)."""
        if self._serving and self._stopping.is_set():
            self._served.wait(timeout)
        self.pool.close()
        self.socket.close()

    # --- handlers -----------------------------------------------------------------

    async def query(self, text: str, accept: str | None) -> Response:
        """Answer one query: from the cache, or from a worker."""
        if len(text.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES:
            return Response.text(413, f"query too long: the limit is {MAX_QUERY_BYTES:,} bytes")
        try:  # the key: what the text means (the worker checks and runs the text as sent)
            key = (canonical(text), accept)
        except QueryError as exc:
            return Response.text(400, str(exc))
        cached = self.cache.get(key) if self.cache.limit else None
        if cached is not None:
            return cached
        response = await self.pool.answer(text, accept)
        if self.cache.limit:
            self.cache.put(key, response)
        return response

    def _web(self, response: Response, *, sparql: bool = True) -> web.Response:
        """``response`` for aiohttp, with the headers every answer carries (and, from
        /sparql, whether inference is on)."""
        from aiohttp import web

        headers = dict(response.headers)
        headers.update(_COMMON_HEADERS)
        if sparql:
            headers["Vary"] = "Accept"
            headers["X-Kg-Inference"] = "on" if self.config.infer else "off"
        return web.Response(status=response.status, body=response.body, headers=headers)

    async def _sparql(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        raw: tuple[str | None, ...] | None = None
        if method in ("GET", "HEAD") and self.cache.limit:
            # the same request again gets the same answer: look it up before parsing
            raw = ("GET", request.query_string, request.headers.get("Accept", ""))
            hit = self.cache.get(raw)
            if hit is not None:
                return self._web(hit)
        response = await self._answer_sparql(request)
        if raw is not None:
            self.cache.put(raw, response)
        return self._web(response)

    async def _answer_sparql(self, request: web.Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(204, b"", (
                ("Access-Control-Allow-Methods", _ALLOW),
                ("Access-Control-Allow-Headers", "Accept, Content-Type"),
                ("Access-Control-Max-Age", "86400")))
        if method not in ("GET", "HEAD", "POST"):
            return _METHOD_NOT_ALLOWED
        params: dict[str, list[str]] | Response = self._form(request.query_string)
        body_query: str | None = None
        if method == "POST" and isinstance(params, dict):
            ctype = request.content_type.lower()
            if ctype == "application/sparql-update":
                return _READ_ONLY
            if ctype not in (_FORM, "application/sparql-query"):
                return Response.text(
                    415, "send the query as application/sparql-query or as a form "
                         "(application/x-www-form-urlencoded)")
            body = await self._body(request)
            if isinstance(body, Response):
                return body
            if ctype == "application/sparql-query":
                body_query = body
            else:
                form = self._form(body)
                if isinstance(form, Response):
                    return form
                for key, values in form.items():
                    params.setdefault(key, []).extend(values)
        if isinstance(params, Response):
            return params
        if "update" in params:
            return _READ_ONLY
        if "default-graph-uri" in params or "named-graph-uri" in params:
            return Response.text(403, "default-graph-uri and named-graph-uri are not "
                                      "allowed: a query runs over kg's graph only")
        queries = [body_query] if body_query is not None else params.get("query", [])
        if len(queries) != 1:
            return Response.text(400, "pass exactly one query (query=... or a body of "
                                      "type application/sparql-query)")
        return await self.query(queries[0], request.headers.get("Accept"))

    async def _body(self, request: web.Request) -> str | Response:
        """The request body as text, or the error to send."""
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            return Response.text(411, "send a Content-Length (chunked bodies are not "
                                      "accepted)")
        if request.content_length is None:
            return Response.text(411, "a POST needs a Content-Length")
        if request.content_length > MAX_BODY_BYTES:
            return Response.text(413, f"request body too large: the limit is "
                                      f"{MAX_BODY_BYTES:,} bytes")
        data = await request.content.read(MAX_BODY_BYTES + 1)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return Response.text(400, "the request body is not UTF-8")

    @staticmethod
    def _form(text: str) -> dict[str, list[str]] | Response:
        """URL-encoded parameters, or the error to send."""
        try:
            return parse_qs(text, keep_blank_values=True, strict_parsing=False,
                            encoding="utf-8", errors="strict", max_num_fields=100)
        except (UnicodeDecodeError, ValueError):
            return Response.text(400, "malformed parameters (not UTF-8, or too many)")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return self._web(Response(204, b"", (("Allow", _ALLOW),)), sparql=False)
        if request.method not in ("GET", "HEAD"):
            return self._refuse_method()
        return self._web(Response(200, self.page, (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", self.page_csp),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
        )), sparql=False)

    async def _health(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return self._refuse_method()
        report = self.pool.health()
        report["cache"] = self.cache.stats()
        report["inference"] = "on" if self.config.infer else "off"
        report["version"] = __version__
        return self._web(Response(200 if report["status"] == "ok" else 503,
                                  (json.dumps(report, indent=2) + "\n").encode("utf-8"),
                                  (("Content-Type", "application/json"),)), sparql=False)

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return self._web(Response.text(404, f"not found: {request.path} (the endpoint is "
                                            "/sparql)"), sparql=False)

    def _refuse_method(self) -> web.StreamResponse:
        return self._web(_METHOD_NOT_ALLOWED, sparql=False)

    @staticmethod
    async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
        """The headers every answer carries, on the ones aiohttp makes itself."""
        if "Access-Control-Allow-Origin" not in response.headers:
            response.headers.update(_COMMON_HEADERS)


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
        server.shutdown()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
