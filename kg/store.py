"""Load what ``kg build`` produced, and the backends queries run on.

The build's graph is read from ``build/graph.nt``, checked against the manifest
written with it. Queries run on a backend: that graph in an in-memory Oxigraph store
(the default), an embedded on-disk Oxigraph store, or any SPARQL 1.1 endpoint. With
inference on (``infer=True``), kg's engine adds the triples ``kg build`` inferred
(``build/inferred.nt``) in a named graph of their own (:mod:`kg.infer`).

The query path imports neither rdflib nor anything that does (kg.build, kg.vocab), so
that ``kg query`` answers without loading rdflib; rdflib comes in where a graph is
wanted as an rdflib graph (:attr:`Build.graph`, CONSTRUCT results, export, viz).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import BuildNotFoundError, DataError, QueryError, UsageError
from .paths import GRAPH_NT, MANIFEST, OBJECTS

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
        return self.output(GRAPH_NT)

    def output(self, name: str) -> bytes:
        """The bytes of the output ``name`` (graph.nt, graph.ttl) of this build, checked
        against the manifest's SHA-256: the file of that name, or else the committed
        copy under ``.objects`` (what a reader finds while a build commits, or after a
        fault between the commit and the update of the plain names)."""
        expected = self.manifest.get("outputs", {}).get(name)
        candidates = [self.path / name]
        if isinstance(expected, str):
            candidates.append(self.path / OBJECTS / f"{expected}{Path(name).suffix}")
        found = False
        for path in candidates:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            found = True
            if hashlib.sha256(data).hexdigest() == expected:
                return data
        if not found:
            raise BuildNotFoundError(f"{self.path / name} is missing: run 'kg build' again")
        raise DataError(f"{self.path / name} does not match {self.path / MANIFEST} (an "
                        "interrupted or edited build): run 'kg build' again")

    def output_path(self, name: str) -> Path:
        """A file holding the output ``name`` as the manifest says: the committed copy
        under ``.objects`` (never changed once written) when there is one."""
        expected = self.manifest.get("outputs", {}).get(name)
        committed = self.path / OBJECTS / f"{expected}{Path(name).suffix}"
        for path in (committed, self.path / name):
            if path.is_file() and _file_sha256(path) == expected:
                return path
        self.output(name)  # raises the error that says what is wrong
        return self.path / name

    def _repr_html_(self) -> str:
        from .notebook import build_html

        return build_html(self)

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

    def inferred_data(self) -> bytes:
        """The N-Triples of the inferred triples (``inferred.nt``, see :mod:`kg.infer`),
        checked against the manifest's SHA-256."""
        from .infer import INFERRED_NT

        if INFERRED_NT not in self.manifest.get("outputs", {}):
            raise BuildNotFoundError(f"the build in {self.path} has no inferred triples (it "
                                     "was made by an earlier kg): run 'kg build' again")
        return self.output(INFERRED_NT)

    def inferred_path(self) -> Path | None:
        """A file holding ``inferred.nt`` as the manifest names it (for ``kg load``), or
        None for a build made before kg inferred anything."""
        from .infer import INFERRED_NT

        if INFERRED_NT not in self.manifest.get("outputs", {}):
            return None
        return self.output_path(INFERRED_NT)

    @functools.cached_property
    def inferred_store(self) -> pyoxigraph.Store:
        """The graph in an in-memory Oxigraph store, with the inferred triples in the
        named graph :data:`kg.infer.INFERRED_GRAPH` (what queries with inference on run
        on; :attr:`store` has the asserted graph alone)."""
        import pyoxigraph

        from .infer import INFERRED_GRAPH

        inferred = self.inferred_data()
        store = pyoxigraph.Store()
        store.bulk_load(self.data(), format=pyoxigraph.RdfFormat.N_TRIPLES)
        graph = pyoxigraph.NamedNode(INFERRED_GRAPH)
        store.add_graph(graph)
        store.bulk_load(inferred, format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
        return store

    def query(self, query: str | Path, /, *, infer: bool = False,
              **params: object) -> QueryResult:
        """Run a named query (``"causes-for-population"``), a ``.rq`` file or SPARQL text
        over the graph, with ``params`` bound as RDF terms (``population="kgr:children"``).

        With ``infer=True`` the query also sees what the ontology entails (the triples
        ``kg build`` inferred with owlrl: ``kg:hasCause``, ``schema:cause``,
        ``wdt:P828``, superclasses...), merged into the default graph and in the named
        graph :data:`kg.infer.INFERRED_GRAPH`; by default it sees the asserted graph
        alone. (A query parameter named ``infer`` cannot be given here: use
        :func:`kg.queries.run_query`.)

        Returns a :class:`kg.queries.QueryResult`: iterate it for the rows (dicts of
        variable name -> rdflib term), or use ``.records()`` for plain Python values.
        The query is checked as everywhere (no SERVICE, FROM or updates) and runs in a
        sandboxed query process (:mod:`kg.engine`) with the default limits
        (:data:`kg.engine.DEFAULT_TIMEOUT`, :data:`kg.engine.DEFAULT_MEMORY`); that
        process stays for the next query.
        """
        from .queries import resolve, run_query

        return run_query(self.inferred_backend if infer else self.backend, resolve(query),
                         params)

    @functools.cached_property
    def backend(self) -> MemoryBackend:
        """This build as a backend (its query process is started on first use)."""
        return MemoryBackend(self)

    @functools.cached_property
    def inferred_backend(self) -> MemoryBackend:
        """This build as a backend with inference on."""
        return MemoryBackend(self, infer=True)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(build_dir: Path) -> dict[str, Any]:
    path = build_dir / MANIFEST
    if not path.is_file():
        raise BuildNotFoundError(
            f"no build in {build_dir}: run 'kg build' first (or pass --build-dir)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc}); run 'kg build' again") from None
    if not isinstance(manifest, dict):
        raise DataError(f"{path}: unreadable manifest; run 'kg build' again")
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
    #: whether queries see the inferred triples too (:mod:`kg.infer`)
    infer: bool

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
    infer: bool
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
    query process's own, or the one this process holds, shared). With ``infer``, the
    store holds the inferred triples too, in their named graph, and queries see them."""

    def __init__(self, build: Build, limits: Limits | None = None, *,
                 infer: bool = False) -> None:
        from .engine import Worker

        self.build = build
        self.label = "memory"
        self.infer = infer
        if infer:
            build.inferred_data()  # a build without them: say so here, in one line
        self.worker = Worker((lambda: build.inferred_store) if infer else (lambda: build.store),
                             limits, infer=infer)

    def graph(self) -> Graph:
        return self.build.graph


#: In a store directory ``DIR`` filled by ``kg load``: the symlink to the loaded store
#: (``DIR/.load-*``), swapped in one atomic step when a load is complete.
STORE_CURRENT = "current"
_STORE_LOAD_PREFIX = ".load-"


def store_data_dir(path: Path) -> Path:
    """The directory holding the data of the store ``path``: what its ``current`` link
    points to (resolved once, so a reader stays on one load), else ``path`` itself (a
    store loaded by an earlier kg, or by another tool)."""
    link = path / STORE_CURRENT
    if link.is_symlink():
        return path / os.readlink(link)
    return path


class OxigraphBackend(_EngineBackend):
    """An embedded, on-disk Oxigraph store (pyoxigraph), filled by ``kg load``; queries
    open it read-only in their query process.

    ``kg load`` never changes a store in place: it loads into a new directory beside
    the current one (``DIR/.load-*``) and then swaps the ``DIR/current`` link to it with
    one rename, so an interrupted load (even kill -9) leaves the previous data queryable.
    The inferred triples, when loaded, are in their named graph
    (:data:`kg.infer.INFERRED_GRAPH`); queries see them only with ``infer``.
    """

    def __init__(self, path: Path, *, create: bool = False,
                 limits: Limits | None = None, infer: bool = False) -> None:

        from .engine import Worker

        if not create and not path.is_dir():
            raise BuildNotFoundError(f"no Oxigraph store in {path}: run 'kg load --store "
                                     f"oxigraph:{path}' first")
        self.path = path
        self.label = f"oxigraph:{path}"
        self.infer = infer
        self._writable = create
        self.worker = Worker(self._open_for_queries, limits, infer=infer)
        self._store: pyoxigraph.Store | None = None
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(f"cannot create the Oxigraph store in {path}: "
                                f"{exc.strerror}") from None

    def _open_read_only(self) -> pyoxigraph.Store:
        import pyoxigraph

        try:  # several processes may read at once
            return pyoxigraph.Store.read_only(str(store_data_dir(self.path)))
        except OSError as exc:
            raise DataError(f"cannot open the Oxigraph store in {self.path}: {exc}") from None

    def _open_for_queries(self) -> pyoxigraph.Store:
        import pyoxigraph

        from .infer import INFERRED_GRAPH

        store = self._open_read_only()
        if self.infer and pyoxigraph.NamedNode(INFERRED_GRAPH) not in store.named_graphs():
            raise DataError(f"the Oxigraph store in {self.path} has no inferred triples: "
                            f"load them with 'kg load --store oxigraph:{self.path}' (from a "
                            "build of this kg)")
        return store

    @property
    def store(self) -> pyoxigraph.Store:
        """The store, opened in this process (read-only unless made to load)."""
        if self._store is None:
            self._store = self._open_read_only()
        return self._store

    def load(self, nt_path: Path, inferred: Path | None = None) -> int:
        """Replace the store's content with the N-Triples file ``nt_path`` (and the
        inferred triples of ``inferred``, in their named graph): load it into a new
        directory, then switch ``current`` to it atomically (under a lock, so two loads
        serialise); the loads before the previous one are removed. Returns the number
        of triples of ``nt_path``."""
        import shutil
        import tempfile

        import pyoxigraph

        from .files import exclusive_lock, fsync_dir, umask

        if not self._writable:
            raise UsageError(f"the Oxigraph store in {self.path} is open read-only")
        self._store = None  # a reader opened here sees the new load once it is current
        with exclusive_lock(self.path / ".lock"):  # loads wait for each other
            link = self.path / STORE_CURRENT
            previous = os.readlink(link) if link.is_symlink() else None
            new = Path(tempfile.mkdtemp(dir=self.path, prefix=_STORE_LOAD_PREFIX))
            try:
                os.chmod(new, 0o777 & ~umask())  # mkdtemp makes 0700; give what mkdir would
                store = pyoxigraph.Store(str(new))
                store.bulk_load(path=str(nt_path), format=pyoxigraph.RdfFormat.N_TRIPLES)
                count = len(store)
                if inferred is not None:
                    from .infer import INFERRED_GRAPH

                    graph = pyoxigraph.NamedNode(INFERRED_GRAPH)
                    store.add_graph(graph)
                    store.bulk_load(path=str(inferred), format=pyoxigraph.RdfFormat.N_TRIPLES,
                                    to_graph=graph)
                store.optimize()
                store.flush()
                del store  # closes it
                tmp_link = self.path / f".current-{new.name}"
                tmp_link.symlink_to(new.name)
                os.replace(tmp_link, link)  # the switch
                fsync_dir(self.path)
            except BaseException:
                (self.path / f".current-{new.name}").unlink(missing_ok=True)
                shutil.rmtree(new, ignore_errors=True)
                raise
            for old in self.path.glob(_STORE_LOAD_PREFIX + "*"):
                if old.name not in (new.name, previous):  # readers may still be on it
                    shutil.rmtree(old, ignore_errors=True)
        return count

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
        self.infer = False

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
                 limits: Limits | None = None, *, infer: bool = False) -> Backend:
    """The backend the options name: ``endpoint`` (a SPARQL endpoint URL), ``store``
    (``oxigraph:DIR``), else the build in memory; queries on kg's engine get ``limits``
    (a remote endpoint gets the timeout for its HTTP requests), and see the inferred
    triples with ``infer`` (kg's engine only: an endpoint holds what was loaded into it)."""
    if store and endpoint:
        raise UsageError("give --store or --endpoint, not both")
    if endpoint:
        if infer:
            raise UsageError("--infer runs on the build or an Oxigraph store, not on "
                             "--endpoint: load build/inferred.nt into a graph of the "
                             "endpoint and query that")
        return EndpointBackend(endpoint, timeout=limits.timeout if limits else 60.0)
    if store:
        return OxigraphBackend(parse_store(store), limits=limits, infer=infer)
    return MemoryBackend(load_build(build_dir), limits, infer=infer)


def parse_store(spec: str) -> Path:
    """The directory of an ``oxigraph:DIR`` store spec."""
    kind, sep, location = spec.partition(":")
    if kind != "oxigraph" or not sep or not location:
        raise UsageError(f"--store {spec!r}: expected oxigraph:DIRECTORY")
    return Path(location)
