"""What kg's objects look like in Jupyter: HTML tables for results, builds and
subgraphs, DataFrames, and the interactive graph inline.

Everything here is escaped text: a label, a literal or an IRI never reaches the
notebook as markup. The inline graph (:func:`show`) is the same offline page as
``kg viz``, in an ``<iframe srcdoc>`` sandboxed without ``allow-same-origin``, so
its scripts run apart from the notebook (no access to its DOM, cookies or kernel)
and it loads nothing from the network.

pandas is optional (``pip install 'kg[notebook]'``): only :func:`to_dataframe`
imports it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .prefixes import curie

if TYPE_CHECKING:
    import pandas
    from rdflib import Graph
    from rdflib.term import Node

    from .results import QueryResult, Term
    from .store import Build

#: Rows shown in an HTML table before "... more rows" (the data itself is not cut).
MAX_HTML_ROWS = 50
#: The inline graph's height in CSS pixels.
DEFAULT_HEIGHT = 640


# --------------------------------------------------------------------------- terms


def _term_value(term: Term | Node | None, curies: bool) -> Any:
    """A result term as a plain Python value: an IRI as a CURIE (or the full IRI), a
    literal as int, float, bool, date or str, a blank node as ``_:id``, None as None."""
    if term is None:
        return None
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, (pyoxigraph.NamedNode, URIRef)):
        iri = term.value if isinstance(term, pyoxigraph.NamedNode) else str(term)
        return curie(iri) if curies else iri
    if isinstance(term, (pyoxigraph.BlankNode, BNode)):
        return f"_:{term.value if isinstance(term, pyoxigraph.BlankNode) else term}"
    if isinstance(term, pyoxigraph.Literal):
        from .results import to_rdflib

        term = to_rdflib(term)
    assert isinstance(term, Literal)
    value = term.toPython()
    return str(term) if isinstance(value, Literal) else value


def _cell(term: Term | Node | None) -> str:
    """One escaped table cell for a term: IRIs as CURIEs with the full IRI as a title,
    literals with their language tag."""
    if term is None:
        return "<td></td>"
    import pyoxigraph
    from rdflib import Literal, URIRef

    if isinstance(term, (pyoxigraph.NamedNode, URIRef)):
        iri = term.value if isinstance(term, pyoxigraph.NamedNode) else str(term)
        return (f'<td title="{html.escape(iri)}"><code>{html.escape(curie(iri))}</code>'
                "</td>")
    language = None
    if isinstance(term, pyoxigraph.Literal):
        language = term.language
    elif isinstance(term, Literal):
        language = term.language
    text = html.escape(str(_term_value(term, curies=True)))
    tag = f" <small>@{html.escape(language)}</small>" if language else ""
    return f"<td>{text}{tag}</td>"


def _table(columns: Sequence[str], rows: Iterable[Sequence[Term | Node | None]],
           total: int, caption: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        if i >= MAX_HTML_ROWS:
            break
        body.append("<tr>" + "".join(_cell(t) for t in row) + "</tr>")
    more = ""
    if total > MAX_HTML_ROWS:
        more = (f'<p class="kg-more">... {total - MAX_HTML_ROWS:,} more rows (all are in '
                "the result: iterate it or call <code>to_dataframe()</code>)</p>")
    return (f'<div class="kg-result"><table><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{more}</div>")


# --------------------------------------------------------------------------- results


def result_html(result: QueryResult) -> str:
    """A query result as an HTML table (a sentence for ASK)."""
    note = " (cut at the row limit)" if result.truncated else ""
    if result.type == "ASK":
        answer = "yes" if result.boolean else "no"
        return (f'<div class="kg-result"><p>ASK: <strong>{answer}</strong>'
                f"{html.escape(note)}</p></div>")
    if result.graph is not None:
        return graph_html(result.graph, f"{result.type}: {len(result.graph):,} triples{note}")
    count = len(result.solutions)
    caption = f"SELECT: {count:,} row{'s' if count != 1 else ''}{note}"
    return _table(result.vars, result.solutions, count, caption)


def graph_html(graph: Graph, caption: str) -> str:
    """The triples of ``graph`` (sorted) as an HTML table."""
    triples = sorted(graph)
    return _table(("subject", "predicate", "object"), triples, len(triples), caption)


def to_dataframe(result: QueryResult, *, curies: bool = True) -> pandas.DataFrame:
    """A SELECT result (one column per variable) or a graph result (subject, predicate,
    object) as a pandas DataFrame of plain values: IRIs as CURIEs with kg's prefixes
    (``curies=False``: full IRIs), literals as Python values, unbound as None."""
    pd = _pandas()
    if result.type == "ASK":
        raise UsageError("an ASK result is a yes or no, not a table: use .boolean")
    if result.graph is not None:
        rows = [[_term_value(t, curies) for t in triple] for triple in sorted(result.graph)]
        return pd.DataFrame(rows, columns=["subject", "predicate", "object"])
    rows = [[_term_value(t, curies) for t in solution] for solution in result.solutions]
    return pd.DataFrame(rows, columns=list(result.vars))


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise UsageError("to_dataframe() needs pandas: pip install 'kg[notebook]' "
                         "(or pandas)") from None
    return pandas


# --------------------------------------------------------------------------- builds


def build_html(build: Build) -> str:
    """A build's summary: where it is, its counts and inputs."""
    m = build.manifest
    rows = [("directory", str(build.path))]
    for key in ("triples", "facts", "entities", "documents"):
        if isinstance(m.get(key), int):
            rows.append((key, f"{m[key]:,}"))
    if m.get("kg_version"):
        rows.append(("built by", f"kg {m['kg_version']}"))
    outputs = m.get("outputs", {})
    if isinstance(outputs, dict):
        rows.append(("outputs", ", ".join(sorted(outputs))))
    inputs = m.get("inputs", {})
    if isinstance(inputs, dict):
        rows.append(("inputs", ", ".join(sorted(inputs))))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                   for k, v in rows)
    return (f'<div class="kg-build"><table><caption>kg build</caption>{body}</table>'
            "<p>Query it with <code>.query(name_or_sparql, **params)</code>; draw it with "
            "<code>kg.show(build)</code>.</p></div>")


# --------------------------------------------------------------------------- subgraphs


@dataclass
class Subgraph:
    """A part of the graph, as :func:`kg.select` cut it out: ``graph`` (rdflib, with
    the facts' evidence unless ``provenance=False``) and ``title`` (what it shows)."""

    graph: Graph
    title: str

    def __len__(self) -> int:
        return len(self.graph)

    def facts(self) -> list[tuple[Node, Node, Node]]:
        """The truthy facts (entity -> entity triples in the kg namespace), sorted."""
        from .vocab import KG, KGR

        return sorted((s, p, o) for s, p, o in self.graph
                      if str(p).startswith(str(KG)) and str(s).startswith(str(KGR))
                      and str(o).startswith(str(KGR)))

    def to_networkx(self, **options: Any) -> Any:
        """The subgraph as a :class:`networkx.MultiDiGraph` (see :func:`kg.to_networkx`)."""
        from .network import to_networkx

        return to_networkx(self.graph, **options)

    def to_dataframe(self, *, curies: bool = True) -> pandas.DataFrame:
        """The facts as a DataFrame: subject, predicate, object and their labels."""
        from rdflib import RDFS

        pd = _pandas()

        def label(node: Node) -> str | None:
            value = self.graph.value(node, RDFS.label)
            return None if value is None else str(value)

        rows = [[_term_value(s, curies), label(s), _term_value(p, curies), label(p),
                 _term_value(o, curies), label(o)] for s, p, o in self.facts()]
        return pd.DataFrame(rows, columns=["subject", "subjectLabel", "predicate",
                                           "predicateLabel", "object", "objectLabel"])

    def serialize(self, fmt: str = "ttl") -> bytes:
        """The subgraph in an export format of :data:`kg.FORMATS`."""
        from .export import export

        return export(self.graph, fmt)

    def _repr_html_(self) -> str:
        facts = self.facts()
        return _table(("subject", "relation", "object"), facts, len(facts),
                      f"{self.title}: {len(facts):,} facts, {len(self.graph):,} triples")


# --------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class Frame:
    """The interactive graph page, shown inline in a notebook (``_repr_html_``) or
    saved as a file (``page``)."""

    page: str
    height: int = DEFAULT_HEIGHT
    title: str = "kg graph"

    def _repr_html_(self) -> str:
        # srcdoc holds the whole page, escaped as an attribute value; without
        # allow-same-origin the page runs in an opaque origin, cut off from the notebook
        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
                f'title="{html.escape(self.title)}" '
                'sandbox="allow-scripts allow-downloads allow-modals" '
                f'style="width: 100%; height: {int(self.height)}px; border: 0" '
                'loading="lazy"></iframe>')


def frame(obj: Any, *, title: str | None = None, height: int = DEFAULT_HEIGHT) -> Frame:
    """The interactive graph of ``obj`` (a :class:`~kg.store.Build`, a
    :class:`Subgraph`, an rdflib ``Graph`` or a CONSTRUCT result) as a :class:`Frame`."""
    from rdflib import Graph

    from .results import QueryResult
    from .store import Build
    from .viz import render_html

    if isinstance(obj, Build):
        graph, default = obj.graph, "the whole graph"
    elif isinstance(obj, Subgraph):
        graph, default = obj.graph, obj.title
    elif isinstance(obj, QueryResult) and obj.graph is not None:
        graph, default = obj.graph, f"{obj.type} result"
    elif isinstance(obj, Graph):
        graph, default = obj, "graph"
    else:
        raise UsageError(f"kg.show: cannot draw a {type(obj).__name__}: give a build, a "
                         "kg.select(...) subgraph, an rdflib Graph or a CONSTRUCT result")
    if height < 100:
        raise UsageError(f"kg.show: height must be at least 100 pixels, not {height}")
    title = title or default
    return Frame(render_html(graph, title=title), height=height, title=title)


def show(obj: Any, *, title: str | None = None, height: int = DEFAULT_HEIGHT) -> Frame | None:
    """Draw ``obj`` as the interactive graph, inline in Jupyter.

    In an IPython kernel the graph is displayed at once (and None returned, so it is
    not shown twice); elsewhere the :class:`Frame` is returned (``.page`` is the HTML).
    """
    shown = frame(obj, title=title, height=height)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return shown
    if get_ipython() is None:
        return shown
    display(shown)  # type: ignore[no-untyped-call]
    return None
