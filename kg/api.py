"""The functions of kg's public API that take defaults, so that a notebook or a script
works from any directory: the data shipped with kg, the build in ``./build`` (or
``$KG_BUILD_DIR``), and subgraph selection and NetworkX conversion by name.

Each is a thin layer over the module that does the work (:mod:`kg.build`,
:mod:`kg.store`, :mod:`kg.subgraph`, :mod:`kg.network`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .paths import default_build_dir, default_data_dir

if TYPE_CHECKING:
    import networkx as nx
    from rdflib import Graph

    from .build import BuildResult
    from .facts import Corpus
    from .notebook import Subgraph
    from .store import Build
    from .validate import ValidationReport


def build_graph(data_dir: Path | str | None = None, build_dir: Path | str | None = None,
                **options: Any) -> BuildResult:
    """Compile ``data_dir`` (default: the data shipped with kg, or ``$KG_DATA``) into
    ``build_dir`` (default: ``$KG_BUILD_DIR`` or ``./build``); see :func:`kg.build.build`."""
    from .build import build

    return build(Path(data_dir) if data_dir is not None else default_data_dir(),
                 Path(build_dir) if build_dir is not None else default_build_dir(), **options)


def load(build_dir: Path | str | None = None) -> Build:
    """The build in ``build_dir`` (default: ``$KG_BUILD_DIR`` or ``./build``)."""
    from .store import load_build

    return load_build(Path(build_dir) if build_dir is not None else default_build_dir())


def validate_build(build: Build | Path | str | None = None,
                   data_dir: Path | str | None = None, corpus: Corpus | None = None,
                   shapes: bool = True) -> ValidationReport:
    """Check a build (default: ``./build``) against its inputs in ``data_dir`` (default:
    the data shipped with kg, or ``$KG_DATA``); see :func:`kg.validate.validate`."""
    from .store import Build
    from .validate import validate

    built = build if isinstance(build, Build) else load(build)
    return validate(built, Path(data_dir) if data_dir is not None else default_data_dir(),
                    corpus, shapes=shapes)


def select(source: Build | Graph | Path | str | None = None, *, around: str | None = None,
           depth: int = 1, population: str | None = None,
           relations: str | Sequence[str] = (), path: tuple[str, str] | None = None,
           undirected: bool = False, query: str | None = None,
           provenance: bool = True) -> Subgraph:
    """Cut a subgraph out of ``source`` (a build, its directory, or an rdflib graph;
    default: the build in ``./build``), as ``kg export`` and ``kg viz`` do.

    Entities are named by label, alternative label, id, CURIE or IRI, ignoring case
    (``around="leg cramp"``, ``population="children"``); ``relations`` are kg relation
    names (``"causes"``); ``path=(a, b)`` keeps the shortest paths from a to b;
    ``query`` a named CONSTRUCT query or a .rq file to select from. With
    ``provenance`` (the default) each fact keeps its statement and evidence.
    """
    from rdflib import Graph

    from .notebook import Subgraph
    from .store import Build
    from .subgraph import Selection, select_on
    from .subgraph import select as select_graph

    if isinstance(relations, str):
        relations = (relations,)
    if depth < 0:
        raise UsageError(f"depth must be 0 or more, not {depth}")
    for option, value in (("around", around), ("population", population), ("query", query),
                          *(("relations", r) for r in relations),
                          *(("path", p) for p in path or ())):
        if value is not None and not str(value).strip():
            raise UsageError(f"{option}: give a name, not an empty string")
    if path is not None and len(path) != 2:
        raise UsageError("path: give two names, (from, to)")
    selection = Selection(around=around, depth=depth, population=population,
                          relations=tuple(relations), path=tuple(path) if path else None,  # type: ignore[arg-type]
                          undirected=undirected, query=query)
    if isinstance(source, Graph):
        graph = select_graph(source, selection, provenance=provenance)
    else:
        build = source if isinstance(source, Build) else load(source)
        graph = select_on(build.backend, selection, provenance=provenance)
    return Subgraph(graph, selection.describe() or "the whole graph")


def to_networkx(source: Any, **options: Any) -> nx.MultiDiGraph:
    """A build, a :func:`select` subgraph or an rdflib graph as a
    :class:`networkx.MultiDiGraph`: one node per entity (label, kind, IRI), one edge per
    fact (predicate, label, quote and qualifiers); see :func:`kg.network.to_networkx`
    for ``options``."""
    from rdflib import Graph

    from .network import to_networkx as convert
    from .notebook import Subgraph
    from .store import Build

    if isinstance(source, (Build, Subgraph)):
        source = source.graph
    if not isinstance(source, Graph):
        raise UsageError(f"to_networkx: cannot convert a {type(source).__name__}: give a "
                         "build, a kg.select(...) subgraph or an rdflib Graph")
    return convert(source, **options)
