"""Load what ``kg build`` produced, and the backends queries run on.

The build's graph is read from ``build/graph.nt``, checked against the manifest
written with it. Queries run on a backend: that graph in an in-memory Oxigraph store
(the default), an embedded on-disk Oxigraph store, or any SPARQL 1.1 endpoint.

The query path imports neither rdflib nor anything that does (kg.build, kg.vocab), so
that ``kg query`` answers without loading rdflib; rdflib comes in where a graph is
wanted as an rdflib graph (:attr:`Build.graph`, CONSTRUCT results, export, viz).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import BuildNotFoundError, DataError, QueryError, UsageError
from .paths import GRAPH_NT, MANIFEST

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph

    from .check import Checked
    from .engine import Limits, Worker
    from .results import QueryResult


@dataclass(frozen=True)
class Build:
    """A build directory's manifest and graph: the graph is read from ``graph.nt``
    (checked against the manifest) when first used, as an rdflib graph (``graph``) or
    an in-memory Oxigraph store (``store``, what queries run on)."""

    path: Path
    manifest: dict[str, Any]

    def data(self) -> bytes:
        """The N-Triples of the graph, checked against the manifest's SHA-256."""
        nt_path = self.path / GRAPH_NT
        try:
            data = nt_path.read_bytes()
        except OSError:
            raise BuildNotFoundError(f"{nt_path} is missing: run 'kg build' again") from None
        expected = self.manifest.get("outputs", {}).get(GRAPH_NT)
        if hashlib.sha256(data).hexdigest() != expected:
            raise DataError(f"{nt_path} does not match {self.path / MANIFEST} (an "
                            "interrupted or edited build): run 'kg build' again")
        return data

    @functools.cached_property
    def graph(self) -> Graph:
        """The graph as an rdflib graph, with kg's prefixes bound."""
        from rdflib import Graph

        from .vocab import bind_prefixes

        graph = bind_prefixes(Graph())
        graph.parse(data=self.data(), format="nt")
        return graph

    @functools.cached_property
    def store(self) -> pyoxigraph.Store:
        """The graph in an in-memory Oxigraph store."""
        import pyoxigraph

        store = pyoxigraph.Store()
        store.bulk_load(self.data(), format=pyoxigraph.RdfFormat.N_TRIPLES)
        return store

    def query(self, query: str | Path, /, **params: object) -> QueryResult:
        """Run a named query (``"causes-for-population"``), a ``.rq`` file or SPARQL text
        over the graph, with ``params`` bound as RDF terms (``population="kgr:children"``).

        Returns a :class:`kg.queries.QueryResult`: iterate it for the rows (dicts of
        variable name -> rdflib term), or use ``.records()`` for plain Python values.
        The query is checked as everywhere (no SERVICE, FROM or updates) and runs in a
        sandboxed query process (:mod:`kg.engine`) with the default limits
        (:data:`kg.engine.DEFAULT_TIMEOUT`, :data:`kg.engine.DEFAULT_MEMORY`); that
        process stays for the next query.
        """
        from .queries import resolve, run_query

        return run_query(self.backend, resolve(query), params)

    @functools.cached_property
    def backend(self) -> MemoryBackend:
        """This build as a backend (its query process is started on first use)."""
        return MemoryBackend(self)


def read_manifest(build_dir: Path) -> dict[str, Any]:
    path = build_dir / MANIFEST
    if not path.is_file():
        raise BuildNotFoundError(
            f"no build in {build_dir}: run 'kg build' first (or pass --build-dir)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc}); run 'kg build' again") from None
    return manifest


def load_build(build_dir: Path) -> Build:
    """The build in ``build_dir``, its graph checked against its manifest."""
    build = Build(path=build_dir, manifest=read_manifest(build_dir))
    build.data()
    return build


# --------------------------------------------------------------------------- backends
#
# Where queries run: the built graph in an in-memory Oxigraph store (the default), an
# embedded on-disk Oxigraph store (``--store oxigraph:DIR``, for large corpora), or any
# SPARQL 1.1 endpoint (``--endpoint URL``). Every query is checked by kg.queries.check
# before it reaches a backend; the backends only run checked, bound query text.


class Backend(Protocol):
    """What kg needs of a place that holds the graph."""

    label: str

    def run(self, query: Checked, max_rows: int | None = None) -> QueryResult:
        """Run a checked query: exactly its text."""

    def write(self, query: Checked, max_rows: int | None, fmt: str | None, *,
              terminal: bool = False) -> tuple[bytes, bool]:
        """Run a checked query and write its result in ``fmt`` (None: the default for
        ``terminal``): the bytes, and whether rows were cut at ``max_rows``."""

    def graph(self) -> Graph:
        """The whole graph as an rdflib graph (for export and viz)."""

    def close(self) -> None:
        """Stop what the backend started (its query process)."""


class _EngineBackend:
    """A backend whose queries run on kg's own engine, in a sandboxed query process."""

    label: str
    worker: Worker

    def run(self, query: Checked, max_rows: int | None = None) -> QueryResult:
        return self.worker.run(query, max_rows)

    def write(self, query: Checked, max_rows: int | None, fmt: str | None, *,
              terminal: bool = False) -> tuple[bytes, bool]:
        return self.worker.write(query, max_rows, fmt, terminal=terminal)

    def close(self) -> None:
        self.worker.close()


class MemoryBackend(_EngineBackend):
    """The build's graph, in memory: queries run on an in-memory Oxigraph store (the
    query process's own, or the one this process holds, shared)."""

    def __init__(self, build: Build, limits: Limits | None = None) -> None:
        from .engine import Worker

        self.build = build
        self.label = "memory"
        self.worker = Worker(lambda: build.store, limits)

    def graph(self) -> Graph:
        return self.build.graph


class OxigraphBackend(_EngineBackend):
    """An embedded, on-disk Oxigraph store (pyoxigraph), filled by ``kg load``; queries
    open it read-only in their query process."""

    def __init__(self, path: Path, *, create: bool = False,
                 limits: Limits | None = None) -> None:
        import pyoxigraph

        from .engine import Worker

        if not create and not path.is_dir():
            raise BuildNotFoundError(f"no Oxigraph store in {path}: run 'kg load --store "
                                     f"oxigraph:{path}' first")
        self.path = path
        self.label = f"oxigraph:{path}"
        self._writable = create
        self.worker = Worker(self._open_read_only, limits)
        self._store: pyoxigraph.Store | None = None
        if create:
            try:
                self._store = pyoxigraph.Store(str(path))
            except OSError as exc:
                raise DataError(f"cannot open the Oxigraph store in {path}: {exc}") from None

    def _open_read_only(self) -> pyoxigraph.Store:
        import pyoxigraph

        try:  # several processes may read at once
            return pyoxigraph.Store.read_only(str(self.path))
        except OSError as exc:
            raise DataError(f"cannot open the Oxigraph store in {self.path}: {exc}") from None

    @property
    def store(self) -> pyoxigraph.Store:
        """The store, opened in this process (read-only unless made to load)."""
        if self._store is None:
            self._store = self._open_read_only()
        return self._store

    def load(self, nt_path: Path) -> int:
        """Replace the store's content with the N-Triples file ``nt_path``."""
        import pyoxigraph

        if not self._writable or self._store is None:
            raise UsageError(f"the Oxigraph store in {self.path} is open read-only")
        self._store.clear()
        self._store.bulk_load(path=str(nt_path), format=pyoxigraph.RdfFormat.N_TRIPLES)
        self._store.optimize()
        return len(self._store)

    def graph(self) -> Graph:
        import pyoxigraph
        from rdflib import Graph

        from .vocab import bind_prefixes

        data = self.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                               from_graph=pyoxigraph.DefaultGraph())
        graph = bind_prefixes(Graph())
        graph.parse(data=data, format="nt")
        return graph


class EndpointBackend:
    """Any SPARQL 1.1 endpoint, through the SPARQL 1.1 Protocol (POST, JSON results)."""

    def __init__(self, url: str, timeout: float | None = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--endpoint: {url!r} is not an http(s) URL")
        self.url = url
        self.timeout = timeout
        self.label = url

    def close(self) -> None:
        pass

    def _post(self, text: str, accept: str) -> bytes:
        """POST ``text`` as an HTML form (``query=...``): the one way of the SPARQL 1.1
        Protocol that every server takes (Virtuoso 7 never answers a direct
        ``application/sparql-query`` POST). Parameters in the endpoint's URL, such as
        ``default-graph-uri``, go into the form with it, as the protocol says."""
        import urllib.error
        import urllib.parse
        import urllib.request

        base, _, params = self.url.partition("?")
        form = (params + "&" if params else "") + urllib.parse.urlencode({"query": text})
        request = urllib.request.Request(
            base, data=form.encode("ascii"), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip().splitlines()
            raise QueryError(f"{self.url} answered {exc.code}: "
                             f"{detail[0] if detail else exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DataError(f"cannot reach {self.url}: {reason}") from None

    def run(self, query: Checked, max_rows: int | None = None) -> QueryResult:
        from .engine import term_from_json
        from .results import QueryResult, graph_result, select_result

        text, form = query.text, query.form
        if form in ("CONSTRUCT", "DESCRIBE"):
            from rdflib import Graph

            graph = Graph()
            graph.parse(data=self._post(text, "application/n-triples"), format="nt")
            return graph_result(form, graph, max_rows)
        data = json.loads(self._post(text, "application/sparql-results+json"))
        if form == "ASK":
            return QueryResult(form, boolean=_ask_answer(data, self.url))
        names = tuple(data.get("head", {}).get("vars", []))
        return select_result(names, (tuple(term_from_json(b[n]) if n in b else None for n in names)
                                     for b in data.get("results", {}).get("bindings", [])),
                             max_rows)

    def write(self, query: Checked, max_rows: int | None, fmt: str | None, *,
              terminal: bool = False) -> tuple[bytes, bool]:
        from .results import default_format, serialize

        result = self.run(query, max_rows)
        return (serialize(result, fmt or default_format(result, terminal=terminal)),
                result.truncated)

    def graph(self) -> Graph:
        from .check import trusted

        graph = self.run(trusted("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT")).graph
        assert graph is not None  # a CONSTRUCT's result is a graph
        return graph

    def load(self, nt_path: Path, batch: int = 50_000,
             progress: Callable[[int], None] | None = None) -> int:
        """Replace the endpoint's default graph with ``nt_path`` through the SPARQL 1.1
        Graph Store Protocol: PUT the first batch of lines, POST the others."""
        import urllib.error
        import urllib.request

        url = self.url if "?" in self.url else self.url + "?default"
        sent = 0
        with nt_path.open("rb") as f:
            first = True
            while True:
                lines = [line for _, line in zip(range(batch), f, strict=False)]
                if not lines and not first:
                    break
                request = urllib.request.Request(
                    url, data=b"".join(lines), method="PUT" if first else "POST",
                    headers={"Content-Type": "application/n-triples"})
                try:
                    with urllib.request.urlopen(request, timeout=self.timeout):
                        pass
                except urllib.error.HTTPError as exc:
                    raise DataError(f"{url} answered {exc.code} to the upload: "
                                    f"{exc.reason}") from None
                except (urllib.error.URLError, OSError) as exc:
                    raise DataError(f"cannot reach {url}: "
                                    f"{getattr(exc, 'reason', exc)}") from None
                sent += len(lines)
                first = False
                if progress:
                    progress(len(lines))
                if not lines:
                    break
        return sent


def _ask_answer(data: dict[str, Any], url: str) -> bool:
    """The answer of SPARQL JSON results to an ASK: ``boolean``, or what Virtuoso 7
    sends instead, a table of one variable (``__ASK_RETVAL``) with one row holding 1
    for yes and no row for no."""
    if isinstance(data.get("boolean"), bool):
        return bool(data["boolean"])
    names = data.get("head", {}).get("vars", [])
    rows = data.get("results", {}).get("bindings", [])
    values = [b.get("value") for row in rows for b in row.values()]
    if len(names) == 1 and len(rows) <= 1 and all(v in ("1", "true") for v in values):
        return bool(values)
    raise QueryError(f"{url} answered an ASK query without a boolean")


def open_backend(build_dir: Path, store: str | None = None, endpoint: str | None = None,
                 limits: Limits | None = None) -> Backend:
    """The backend the options name: ``endpoint`` (a SPARQL endpoint URL), ``store``
    (``oxigraph:DIR``), else the build in memory; queries on kg's engine get ``limits``
    (a remote endpoint gets the timeout for its HTTP requests)."""
    if store and endpoint:
        raise UsageError("give --store or --endpoint, not both")
    if endpoint:
        return EndpointBackend(endpoint, timeout=limits.timeout if limits else 60.0)
    if store:
        return OxigraphBackend(parse_store(store), limits=limits)
    return MemoryBackend(load_build(build_dir), limits)


def parse_store(spec: str) -> Path:
    """The directory of an ``oxigraph:DIR`` store spec."""
    kind, sep, location = spec.partition(":")
    if kind != "oxigraph" or not sep or not location:
        raise UsageError(f"--store {spec!r}: expected oxigraph:DIRECTORY")
    return Path(location)
