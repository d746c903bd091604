"""Load what ``kg build`` produced, and the backends queries run on.

The build's graph is read from ``build/graph.nt``, checked against the manifest
written with it. Queries run on a backend: that graph in memory (rdflib, the default),
an embedded on-disk Oxigraph store, or any SPARQL 1.1 endpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rdflib import Graph

from .build import GRAPH_NT, MANIFEST
from .errors import BuildNotFoundError, DataError, QueryError, UsageError, first_line
from .vocab import bind_prefixes

if TYPE_CHECKING:
    from rdflib.term import Node

    from .queries import QueryResult


@dataclass(frozen=True)
class Build:
    """A build directory's graph and manifest."""

    path: Path
    graph: Graph
    manifest: dict[str, Any]

    def query(self, query: str | Path, /, **params: object) -> QueryResult:
        """Run a named query (``"causes-for-population"``), a ``.rq`` file or SPARQL text
        over the graph, with ``params`` bound as RDF terms (``population="kgr:children"``).

        Returns a :class:`kg.queries.QueryResult`: iterate it for the rows (dicts of
        variable name -> rdflib term), or use ``.records()`` for plain Python values.
        The query is checked as everywhere (no SERVICE, FROM or updates).
        """
        from .queries import run

        return run(self.graph, query, params)


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
    """Load the graph of ``build_dir``, checking it against its manifest."""
    manifest = read_manifest(build_dir)
    nt_path = build_dir / GRAPH_NT
    try:
        data = nt_path.read_bytes()
    except OSError:
        raise BuildNotFoundError(f"{nt_path} is missing: run 'kg build' again") from None
    expected = manifest.get("outputs", {}).get(GRAPH_NT)
    if hashlib.sha256(data).hexdigest() != expected:
        raise DataError(f"{nt_path} does not match {build_dir / MANIFEST} (an interrupted "
                        "or edited build): run 'kg build' again")
    graph = bind_prefixes(Graph())
    graph.parse(data=data, format="nt")
    return Build(path=build_dir, graph=graph, manifest=manifest)


# --------------------------------------------------------------------------- backends
#
# Where queries run: the built graph in memory (rdflib, the default), an embedded
# on-disk Oxigraph store (``--store oxigraph:DIR``, for large corpora), or any SPARQL
# 1.1 endpoint (``--endpoint URL``). Every query is checked by kg.queries.prepare
# before it reaches a backend; the backends only run checked, bound query text.


class Backend(Protocol):
    """What kg needs of a place that holds the graph."""

    label: str

    def run(self, text: str, form: str, max_rows: int | None) -> QueryResult:
        """Run checked query text whose form (SELECT, ASK...) is ``form``."""

    def graph(self) -> Graph:
        """The whole graph as an rdflib graph (for export and viz)."""


@dataclass
class MemoryBackend:
    """The build's graph, in memory with rdflib."""

    build: Build
    label: str = "memory"

    def run(self, text: str, form: str, max_rows: int | None) -> QueryResult:
        from .queries import execute, prepare

        return execute(self.build.graph, prepare(text), max_rows=max_rows)

    def graph(self) -> Graph:
        return self.build.graph


class OxigraphBackend:
    """An embedded, on-disk Oxigraph store (pyoxigraph), filled by ``kg load``."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        try:
            import pyoxigraph
        except ImportError:
            raise DataError("the oxigraph store needs pyoxigraph: pip install 'kg[oxigraph]'"
                            ) from None
        if not create and not path.is_dir():
            raise BuildNotFoundError(f"no Oxigraph store in {path}: run 'kg load --store "
                                     f"oxigraph:{path}' first")
        try:  # queries open the store read-only: several processes may read at once
            self.store = (pyoxigraph.Store(str(path)) if create
                          else pyoxigraph.Store.read_only(str(path)))
        except OSError as exc:
            raise DataError(f"cannot open the Oxigraph store in {path}: {exc}") from None
        self.path = path
        self.label = f"oxigraph:{path}"
        self._writable = create

    def load(self, nt_path: Path) -> int:
        """Replace the store's content with the N-Triples file ``nt_path``."""
        import pyoxigraph

        if not self._writable:
            raise UsageError(f"the Oxigraph store in {self.path} is open read-only")
        self.store.clear()
        self.store.bulk_load(path=str(nt_path), format=pyoxigraph.RdfFormat.N_TRIPLES)
        self.store.optimize()
        return len(self.store)

    def run(self, text: str, form: str, max_rows: int | None) -> QueryResult:
        try:
            result = self.store.query(text)
            return _oxigraph_result(result, form, max_rows)
        except (OSError, SyntaxError, ValueError) as exc:
            raise QueryError(f"query failed: {first_line(exc)}") from None

    def graph(self) -> Graph:
        import pyoxigraph

        data = self.store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                               from_graph=pyoxigraph.DefaultGraph())
        graph = bind_prefixes(Graph())
        graph.parse(data=data, format="nt")
        return graph


class EndpointBackend:
    """Any SPARQL 1.1 endpoint, through the SPARQL 1.1 Protocol (POST, JSON results)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--endpoint: {url!r} is not an http(s) URL")
        self.url = url
        self.timeout = timeout
        self.label = url

    def _post(self, text: str, accept: str) -> bytes:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.url, data=text.encode("utf-8"), method="POST",
            headers={"Content-Type": "application/sparql-query; charset=utf-8",
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

    def run(self, text: str, form: str, max_rows: int | None) -> QueryResult:
        from .queries import QueryResult, select_result

        if form in ("CONSTRUCT", "DESCRIBE"):
            graph = bind_prefixes(Graph())
            graph.parse(data=self._post(text, "application/n-triples"), format="nt")
            return _capped_graph(form, graph, max_rows)
        data = json.loads(self._post(text, "application/sparql-results+json"))
        if form == "ASK":
            return QueryResult(form, boolean=bool(data.get("boolean")))
        names = tuple(data.get("head", {}).get("vars", []))
        return select_result(names, ({n: _json_term(b[n]) if n in b else None for n in names}
                                     for b in data.get("results", {}).get("bindings", [])),
                             max_rows)

    def graph(self) -> Graph:
        return self.run("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT", None).graph \
            or Graph()

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


def open_backend(build_dir: Path, store: str | None = None,
                 endpoint: str | None = None) -> Backend:
    """The backend the options name: ``endpoint`` (a SPARQL endpoint URL), ``store``
    (``oxigraph:DIR``), else the build in memory."""
    if store and endpoint:
        raise UsageError("give --store or --endpoint, not both")
    if endpoint:
        return EndpointBackend(endpoint)
    if store:
        return OxigraphBackend(parse_store(store))
    return MemoryBackend(load_build(build_dir))


def parse_store(spec: str) -> Path:
    """The directory of an ``oxigraph:DIR`` store spec."""
    kind, sep, location = spec.partition(":")
    if kind != "oxigraph" or not sep or not location:
        raise UsageError(f"--store {spec!r}: expected oxigraph:DIRECTORY")
    return Path(location)


def _oxigraph_term(term: Any) -> Node | None:
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value, datatype=None if dt == _XSD_STRING else URIRef(dt))
    raise QueryError(f"unsupported term in a result: {term!r}")


def _oxigraph_result(result: Any, form: str, max_rows: int | None) -> QueryResult:
    from .queries import QueryResult, select_result

    if form == "ASK":
        return QueryResult(form, boolean=bool(result))
    if form in ("CONSTRUCT", "DESCRIBE"):
        graph = Graph()
        for t in result:
            graph.add((_oxigraph_term(t.subject), _oxigraph_term(t.predicate),  # type: ignore[arg-type]
                       _oxigraph_term(t.object)))
        return _capped_graph(form, graph, max_rows)
    names = tuple(v.value for v in result.variables)
    return select_result(names, ({n: _oxigraph_term(solution[n]) for n in names}
                                 for solution in result), max_rows)


def _capped_graph(form: str, graph: Graph, max_rows: int | None) -> QueryResult:
    from .queries import graph_result

    return graph_result(form, graph, max_rows)


def _json_term(value: dict[str, str]) -> Node:
    from rdflib import BNode, Literal, URIRef

    kind = value.get("type")
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    dt = value.get("datatype")
    return Literal(value["value"], datatype=URIRef(dt) if dt and dt != _XSD_STRING else None)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
