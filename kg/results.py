"""Query results: what a query gave (:class:`QueryResult`, holding pyoxigraph terms) and
the formats they are written in, the W3C result formats for SELECT and ASK and RDF
syntaxes for CONSTRUCT and DESCRIBE.

This module imports neither rdflib nor anything that does at its top, so that the
query path (``kg query`` on the build, the endpoint's workers) answers without loading
rdflib unless a result is a graph.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph
    from rdflib.term import Node

    #: An RDF term of a result or a parameter: kg's query path uses pyoxigraph's terms
    #: (no rdflib import); :attr:`QueryResult.rows` gives rdflib's.
    Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal


@dataclass
class QueryResult:
    """What a query gave.

    ``type`` is SELECT, ASK, CONSTRUCT or DESCRIBE. A SELECT has ``vars`` and
    ``solutions``: one tuple per solution, in the order of ``vars``, of pyoxigraph terms
    (``NamedNode``, ``Literal``, ``BlankNode``) or None where unbound; ``rows`` gives them
    as dicts of rdflib terms. An ASK has ``boolean``; a CONSTRUCT or DESCRIBE has
    ``graph`` (rdflib). ``truncated`` is True when ``max_rows`` cut rows (or triples) off.

    Iterating gives the rows (or the triples of a graph); ``bool()`` is the ASK answer,
    else whether anything came back.
    """

    type: str
    vars: tuple[str, ...] = ()
    solutions: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None
    truncated: bool = False

    @functools.cached_property
    def rows(self) -> list[dict[str, Node | None]]:
        """One dict per solution: variable name -> rdflib term (``URIRef``, ``Literal``,
        ``BNode``), or None where unbound."""
        return [{name: to_rdflib(term) for name, term in zip(self.vars, solution, strict=True)}
                for solution in self.solutions]

    def __iter__(self) -> Iterator[Any]:
        if self.graph is not None:
            return iter(sorted(self.graph))
        return iter(self.rows)

    def __bool__(self) -> bool:
        if self.boolean is not None:
            return self.boolean
        return bool(self.solutions) or bool(self.graph is not None and len(self.graph))

    def to_dataframe(self, *, curies: bool = True) -> Any:
        """The result as a pandas DataFrame (pandas is optional: ``kg[notebook]``): one
        column per variable (subject, predicate, object for a graph), IRIs as CURIEs
        with kg's prefixes (``curies=False``: full IRIs), literals as Python values."""
        from .notebook import to_dataframe

        return to_dataframe(self, curies=curies)

    def _repr_html_(self) -> str:
        from .notebook import result_html

        return result_html(self)

    def records(self) -> list[dict[str, Any]]:
        """The rows as plain Python values (IRIs as strings, literals as int, str,
        date...), e.g. for ``pandas.DataFrame(result.records())``."""
        from rdflib import Literal

        return [{k: (v.toPython() if isinstance(v, Literal) else None if v is None else str(v))
                 for k, v in row.items()} for row in self.rows]


def to_rdflib(term: Term | None) -> Node | None:
    """A pyoxigraph term as rdflib's (None stays None)."""
    import pyoxigraph
    from rdflib import BNode, Literal, URIRef

    from .prefixes import XSD_STRING

    if term is None:
        return None
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == XSD_STRING else URIRef(datatype))


def from_rdflib(node: Node | None) -> Term | None:
    """An rdflib term as pyoxigraph's (None stays None)."""
    import pyoxigraph
    from rdflib import BNode, Literal

    if node is None:
        return None
    if isinstance(node, Literal):
        if node.language:
            return pyoxigraph.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return pyoxigraph.Literal(str(node), datatype=pyoxigraph.NamedNode(node.datatype))
        return pyoxigraph.Literal(str(node))
    if isinstance(node, BNode):
        return blank_node(str(node))
    return pyoxigraph.NamedNode(str(node))


def blank_node(label: str) -> pyoxigraph.BlankNode:
    """A pyoxigraph blank node of id ``label``, or of a stable stand-in for an id that
    pyoxigraph does not accept (rdflib and endpoints allow more)."""
    import pyoxigraph

    try:
        return pyoxigraph.BlankNode(label)
    except ValueError:
        return pyoxigraph.BlankNode("b" + hashlib.sha1(label.encode("utf-8", "replace"))
                                    .hexdigest())




def select_result(names: tuple[str, ...], solutions: Iterable[tuple[Term | None, ...]],
                  max_rows: int | None) -> QueryResult:
    """A SELECT result of ``solutions``, cut at ``max_rows`` (then ``truncated``); they
    are read lazily, so what lies past the cut is never converted."""
    kept: list[tuple[Term | None, ...]] = []
    for solution in solutions:
        if max_rows is not None and len(kept) >= max_rows:
            return QueryResult("SELECT", vars=names, solutions=kept, truncated=True)
        kept.append(solution)
    return QueryResult("SELECT", vars=names, solutions=kept)


def graph_result(form: str, triples: Iterable[tuple[Node, Node, Node]] | None,
                 max_rows: int | None) -> QueryResult:
    """A CONSTRUCT or DESCRIBE result of ``triples`` (an rdflib graph or any iterable
    of triples), sorted, distinct and cut at ``max_rows`` (then ``truncated``)."""
    from rdflib import Graph

    from .vocab import bind_prefixes

    out = bind_prefixes(Graph())
    triples = sorted(set(triples)) if triples is not None else []
    truncated = max_rows is not None and len(triples) > max_rows
    for triple in triples[:max_rows] if max_rows is not None else triples:
        out.add(triple)
    return QueryResult(form, graph=out, truncated=truncated)




# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class ResultFormat:
    """A format for SELECT and ASK results."""

    name: str
    media_type: str
    description: str
    write: Callable[[QueryResult], bytes]
    #: whether the format can carry an ASK answer
    ask: bool = True


def _cells(result: QueryResult) -> Iterator[Iterator[tuple[str, Term]]]:
    """Each solution's bound (variable, term) pairs, in the order of ``vars``."""
    for solution in result.solutions:
        yield ((name, term) for name, term in zip(result.vars, solution, strict=True)
               if term is not None)


def _json(result: QueryResult) -> bytes:
    if result.type == "ASK":
        doc: dict[str, Any] = {"head": {}, "boolean": bool(result.boolean)}
    else:
        doc = {"head": {"vars": list(result.vars)},
               "results": {"bindings": [{k: _json_term(v) for k, v in cells}
                                        for cells in _cells(result)]}}
    return (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")


def _datatype(term: pyoxigraph.Literal) -> str | None:
    """The datatype IRI SPARQL results write for a literal: none for a plain string or
    a language-tagged one."""
    from .prefixes import XSD_STRING

    if term.language:
        return None
    datatype: str = term.datatype.value
    return None if datatype == XSD_STRING else datatype


def _json_term(term: Term) -> dict[str, str]:
    import pyoxigraph

    if isinstance(term, pyoxigraph.Literal):
        out = {"type": "literal", "value": term.value}
        datatype = _datatype(term)
        if term.language:
            out["xml:lang"] = term.language
        elif datatype:
            out["datatype"] = datatype
        return out
    return {"type": "bnode" if isinstance(term, pyoxigraph.BlankNode) else "uri",
            "value": term.value}


def _xml(result: QueryResult) -> bytes:
    from xml.sax.saxutils import quoteattr  # imported here: it pulls in urllib

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.type == "ASK":
        out += ["  <head/>", f"  <boolean>{'true' if result.boolean else 'false'}</boolean>"]
    else:
        out.append("  <head>")
        out += [f"    <variable name={quoteattr(v)}/>" for v in result.vars]
        out += ["  </head>", "  <results>"]
        for cells in _cells(result):
            out.append("    <result>")
            out += [f"      <binding name={quoteattr(k)}>{_xml_term(v)}</binding>"
                    for k, v in cells]
            out.append("    </result>")
        out.append("  </results>")
    out.append("</sparql>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _xml_term(term: Term) -> str:
    from xml.sax.saxutils import escape, quoteattr

    import pyoxigraph

    if isinstance(term, pyoxigraph.Literal):
        datatype = _datatype(term)
        attr = (f" xml:lang={quoteattr(term.language)}" if term.language
                else f" datatype={quoteattr(datatype)}" if datatype else "")
        return f"<literal{attr}>{escape(term.value)}</literal>"
    tag = "bnode" if isinstance(term, pyoxigraph.BlankNode) else "uri"
    return f"<{tag}>{escape(term.value)}</{tag}>"


def _csv(result: QueryResult) -> bytes:
    import pyoxigraph

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(result.vars)
    for solution in result.solutions:
        writer.writerow(["" if v is None else f"_:{v.value}"
                         if isinstance(v, pyoxigraph.BlankNode) else v.value
                         for v in solution])
    return buffer.getvalue().encode("utf-8")


def _tsv(result: QueryResult) -> bytes:
    lines = ["\t".join(f"?{v}" for v in result.vars)]
    lines += ["\t".join("" if term is None else _nt_term(term) for term in solution)
              for solution in result.solutions]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _nt_term(term: Term) -> str:
    """``term`` in N-Triples syntax, on one line (tabs escaped too, for TSV)."""
    import pyoxigraph

    from .ntriples import literal

    if isinstance(term, pyoxigraph.Literal):  # escaping leaves a tab only where the value had one
        return literal(term.value, term.language, _datatype(term)).replace("\t", "\\t")
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    return f"<{term.value}>"


def _table(result: QueryResult) -> bytes:
    """An aligned text table for people: IRIs as CURIEs, literals as their text."""
    if result.type == "ASK":
        return b"true\n" if result.boolean else b"false\n"
    header = list(result.vars)
    cells = [[_display(term) for term in solution] for solution in result.solutions]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(header), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    n = len(result.solutions)
    out.append(f"({n} row{'' if n == 1 else 's'}"
               + (", cut at the row limit)" if result.truncated else ")"))
    return ("\n".join(out) + "\n").encode("utf-8")


def _display(term: Term | None) -> str:
    import pyoxigraph

    from .prefixes import curie

    if term is None:
        return ""
    text = curie(term.value) if isinstance(term, pyoxigraph.NamedNode) else term.value
    return re.sub(r"[\t\r\n]+", " ", text)


#: Formats for SELECT and ASK results: the four W3C formats and a text table.
RESULT_FORMATS: dict[str, ResultFormat] = {
    f.name: f
    for f in (
        ResultFormat("table", "text/plain; charset=utf-8",
                     "an aligned table for people (IRIs as CURIEs)", _table),
        ResultFormat("tsv", "text/tab-separated-values; charset=utf-8",
                     "SPARQL 1.1 TSV (terms in N-Triples syntax)", _tsv, ask=False),
        ResultFormat("csv", "text/csv; charset=utf-8", "SPARQL 1.1 CSV (plain values)", _csv,
                     ask=False),
        ResultFormat("json", "application/sparql-results+json", "SPARQL 1.1 JSON results",
                     _json),
        ResultFormat("xml", "application/sparql-results+xml", "SPARQL XML results", _xml),
    )
}

#: Formats for CONSTRUCT and DESCRIBE results: these entries of :data:`kg.export.FORMATS`.
GRAPH_FORMATS = ("ttl", "nt", "jsonld", "rdfxml")


def default_format(result: QueryResult, *, terminal: bool) -> str:
    """The format ``kg query`` writes when none is asked for: a table on a terminal and
    TSV otherwise (an ASK answer: true or false), Turtle for a graph."""
    if result.graph is not None:
        return "ttl"
    return "table" if terminal or result.type == "ASK" else "tsv"


def serialize(result: QueryResult, fmt: str) -> bytes:
    """``result`` as bytes in ``fmt``: a key of :data:`RESULT_FORMATS` for SELECT and
    ASK, one of :data:`GRAPH_FORMATS` for CONSTRUCT and DESCRIBE."""
    if result.graph is not None:
        if fmt not in GRAPH_FORMATS:
            raise UsageError(f"a {result.type} query gives a graph: choose a format from "
                             f"{', '.join(GRAPH_FORMATS)} (not {fmt!r})")
        from .export import FORMATS

        return FORMATS[fmt].write(result.graph)
    if fmt not in RESULT_FORMATS:
        raise UsageError(f"a {result.type} query gives results: choose a format from "
                         f"{', '.join(RESULT_FORMATS)} (not {fmt!r})")
    chosen = RESULT_FORMATS[fmt]
    if result.type == "ASK" and not chosen.ask:
        raise UsageError(f"{fmt} cannot carry an ASK answer: use table, json or xml")
    return chosen.write(result)
