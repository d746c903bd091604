"""Named SPARQL queries: load them, bind their parameters, run them.

A named query is a file ``queries/<name>.rq`` that declares itself in a comment header::

    # title: Causes of leg cramps for a population
    # description: What the text says brings on leg cramps in population $population,
    #   with the context (trimester, season...) each cause holds in.
    # param: population iri kgr:pregnant-women

    SELECT ?cause ?causeLabel ?context WHERE { ... ?statement kg:population $population ... }

* ``# param: NAME TYPE [DEFAULT]`` declares a parameter; TYPE is a key of
  :data:`PARAM_TYPES` (``iri``, ``string``, ``integer``, ``decimal``, ``boolean``). A
  parameter without a default must be given.
* In the query text a parameter is written ``$name`` and an ordinary variable ``?name``
  (SPARQL treats both spellings as the same variable; kg gives ``$`` this one meaning
  in a query that declares parameters). The loader checks that every declared parameter
  is used as ``$name``, that every ``$name`` is declared, and that a parameter is never
  also written ``?name``. A query that declares none may write any variable ``$name``.
* Binding never formats a value into the text: the value becomes an RDF term (checked
  for its type, then written escaped) in a ``VALUES ?name { term }`` block inserted at
  the start of the WHERE clause, and ``$name`` becomes ``?name``. The bound text is
  then checked in full (:func:`kg.check.check`), and that checked text is what the
  engine runs. SPARQL joins a nested group ``{ }`` after evaluating it, so use
  parameters in the top-level group (a FILTER inside a nested group does not see them).

The check, the engine and the result formats live in :mod:`kg.check`,
:mod:`kg.engine` and :mod:`kg.results`; their names used to live here and are still
importable from this module.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .check import (
    BASE_IRI as BASE_IRI,
)
from .check import (
    MAX_QUERY_BYTES as MAX_QUERY_BYTES,
)
from .check import (
    Checked as Checked,
)
from .check import (
    cache_dir as cache_dir,
)
from .check import (
    canonical as canonical,
)
from .check import (
    check as check,
)
from .check import (
    form_of as form_of,
)
from .check import (
    prepare as prepare,
)
from .check import (
    standalone as standalone,
)
from .errors import (
    DataError,
    KgError,
    QueryError,
    UsageError,
    display_path,
    first_line,
)
from .results import (
    GRAPH_FORMATS as GRAPH_FORMATS,
)
from .results import (
    RESULT_FORMATS as RESULT_FORMATS,
)
from .results import (
    QueryResult as QueryResult,
)
from .results import (
    ResultFormat as ResultFormat,
)
from .results import (
    blank_node as blank_node,
)
from .results import (
    default_format as default_format,
)
from .results import (
    from_rdflib as from_rdflib,
)
from .results import (
    graph_result as graph_result,
)
from .results import (
    select_result as select_result,
)
from .results import (
    serialize as serialize,
)
from .results import (
    to_rdflib as to_rdflib,
)
from .scan import QUERY_FORMS as QUERY_FORMS
from .scan import query_form as query_form
from .scan import tokens, variables, where_start

if TYPE_CHECKING:
    from rdflib import Graph

    from .results import Term as Term
    from .store import Backend

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class ParamType:
    """A type a parameter may have: how a value given for it becomes an RDF term."""

    name: str
    description: str
    #: value -> RDF term; raises ValueError with the reason when the value does not fit
    convert: Callable[[object], Term]


def _to_iri(value: object) -> Term:
    import pyoxigraph

    from .prefixes import NAMESPACES

    if isinstance(value, pyoxigraph.NamedNode):
        iri = value.value
    elif isinstance(value, str):  # rdflib's URIRef is a str
        iri = value.strip()
    else:
        raise ValueError(f"expected an IRI, got {type(value).__name__}")
    if iri.startswith("<") and iri.endswith(">"):
        iri = iri[1:-1]
    elif "://" not in iri and not iri.lower().startswith("urn:"):
        prefix, colon, local = iri.partition(":")
        if not colon:
            raise ValueError(f"{iri!r} is not an IRI: write a full IRI (https://...) or a "
                             "CURIE such as kgr:children")
        if prefix not in NAMESPACES:
            raise ValueError(f"{iri!r}: unknown prefix {prefix!r} (known: "
                             f"{', '.join(sorted(NAMESPACES))}); or write a full IRI in <...>")
        iri = NAMESPACES[prefix] + local
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*", iri):
        raise ValueError(f"{iri!r} is not a valid absolute IRI")
    try:
        return pyoxigraph.NamedNode(iri)
    except ValueError as exc:
        raise ValueError(f"{iri!r} is not a valid absolute IRI ({exc})") from None


def _typed(lexical: str, datatype: str) -> Term:
    import pyoxigraph

    from .prefixes import NAMESPACES

    return pyoxigraph.Literal(lexical, datatype=pyoxigraph.NamedNode(NAMESPACES["xsd"] + datatype))


def _to_string(value: object) -> Term:
    import pyoxigraph

    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text") from None
    return pyoxigraph.Literal(str(value))


def _to_integer(value: object) -> Term:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        raise ValueError(f"{value!r} is not an integer")
    return _typed(str(int(value)), "integer")


def _to_decimal(value: object) -> Term:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"expected a decimal number, got {type(value).__name__}")
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", text):
        raise ValueError(f"{value!r} is not a decimal number")
    try:
        return _typed(str(Decimal(text)), "decimal")
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None


def _to_boolean(value: object) -> Term:
    words = {"true": True, "false": False, "1": True, "0": False}
    if isinstance(value, str) and value.strip().lower() in words:
        value = words[value.strip().lower()]
    if isinstance(value, bool):
        return _typed("true" if value else "false", "boolean")
    raise ValueError(f"{value!r} is not a boolean (true or false)")


#: The types a ``# param:`` line may declare.
PARAM_TYPES: dict[str, ParamType] = {
    t.name: t
    for t in (
        ParamType("iri", "an IRI: a CURIE such as kgr:children, https://... or <...>", _to_iri),
        ParamType("string", "a string literal (plain, no language tag)", _to_string),
        ParamType("integer", "an xsd:integer", _to_integer),
        ParamType("decimal", "an xsd:decimal", _to_decimal),
        ParamType("boolean", "true or false", _to_boolean),
    )
}


@dataclass(frozen=True)
class Param:
    """A declared parameter of a query."""

    name: str
    type: str
    default: str | None = None

    def term(self, value: object) -> Term:
        """``value`` as an RDF term of this parameter's type; a UsageError naming the
        parameter when it is not one."""
        try:
            return PARAM_TYPES[self.type].convert(value)
        except ValueError as exc:
            raise UsageError(f"parameter {self.name!r} ({self.type}): {exc}") from None

    def __str__(self) -> str:
        return f"{self.name} {self.type}" + (f" [{self.default}]" if self.default else "")


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class NamedQuery:
    """A query with its header: from ``queries/<name>.rq``, another file, or text."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    #: the text as written, header included, parameters unbound
    text: str
    path: Path | None = None

    @property
    def form(self) -> str | None:
        """SELECT, ASK, CONSTRUCT or DESCRIBE (None if the text names none)."""
        return query_form(self.text)

    def terms(self, values: Mapping[str, object] | None = None) -> dict[str, Term]:
        """Each parameter's value as an RDF term of its type (the default for one not
        given in ``values``).

        Values are strings in the syntax of the parameter's type (``"kgr:children"``,
        ``"42"``) or RDF terms. An unknown, missing or ill-typed parameter is a
        :class:`UsageError` that names it.
        """
        values = dict(values or {})
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            takes = (f"it takes {', '.join(declared)}" if declared
                     else "it takes no parameters")
            raise UsageError(f"query {self.name!r} has no parameter {unknown[0]!r}: {takes}")
        terms: dict[str, Term] = {}
        for p in self.params:
            if p.name in values:
                terms[p.name] = p.term(values[p.name])
            elif p.default is not None:
                terms[p.name] = p.term(p.default)
            else:
                raise UsageError(f"query {self.name!r} needs parameter {p.name!r} ({p.type}): "
                                 f"give -p {p.name} VALUE")
        return terms

    def bind(self, values: Mapping[str, object] | None = None) -> str:
        """The query text with its parameters bound to ``values`` (see :meth:`terms`),
        each in a ``VALUES`` block at the start of the WHERE clause."""
        terms = self.terms(values)
        return bind_values(_unparameterised(self.text, set(terms)), terms)

    def as_dict(self) -> dict[str, Any]:
        """Name, title, description, form and parameters, as plain data."""
        return {"name": self.name, "title": self.title, "description": self.description,
                "form": self.form,
                "params": [{"name": p.name, "type": p.type, "default": p.default}
                           for p in self.params]}


def _unparameterised(text: str, names: set[str]) -> str:
    """``text`` as a plain query: each ``$name`` of ``names`` written ``?name`` and each
    ``# param:`` line of the header marked as bound, so that the bound text runs (and
    reads) as an ordinary query, here or on any other endpoint."""
    if not names:
        return text
    out = []
    last = 0
    for tok in tokens(text):
        if tok.kind == "var" and tok.text[0] == "$" and tok.text[1:] in names:
            out.append(text[last:tok.start] + "?" + tok.text[1:])
            last = tok.end
    out.append(text[last:])
    body = "".join(out)
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith("#") and line.strip():
            break
        lines[i] = re.sub(r"^#(\s?)param:", r"#\1bound parameter:", line)
    return "\n".join(lines)


def bind_values(text: str, terms: Mapping[str, Term]) -> str:
    """``text`` with ``VALUES ?name { term }`` for each binding inserted at the start of
    its WHERE clause. Terms are written escaped (:func:`_sparql_term`): a value cannot
    escape its term."""
    if not terms:
        return text
    at = where_start(text)
    if at is None:
        raise QueryError("cannot bind parameters: the query has no WHERE clause")
    block = "".join(f" VALUES ?{name} {{ {_sparql_term(term)} }}"
                    for name, term in terms.items())
    return f"{text[:at]}{block}{text[at:]}"


def _sparql_term(term: Term) -> str:
    """``term`` as SPARQL text that reads back as exactly ``term``.

    An IRI is written ``<...>`` (:func:`_to_iri` checked that it holds no ``\\``,
    ``<``, ``>`` or space). In a literal, ``"``, newline, return and tab are written as
    the escapes ``\\"``, ``\\n``, ``\\r``, ``\\t``, and a backslash as
    ``\\u005C\\u005C``: SPARQL expands codepoint escapes before it reads strings, so
    that becomes the escape ``\\\\`` (a backslash), and a backslash of the value can
    never be read as the start of an escape, whatever follows it (``\\u0041`` stays six
    characters). A value therefore cannot end its string. The bound text is then
    checked like any other (:func:`kg.check.check`).
    """
    import pyoxigraph

    from .results import _datatype

    if not isinstance(term, pyoxigraph.Literal):
        return f"<{term.value}>"
    text = '"' + _SPARQL_STRING.sub(lambda m: _SPARQL_ESCAPES[m.group()], term.value) + '"'
    if term.language:
        return f"{text}@{term.language}"
    datatype = _datatype(term)
    return f"{text}^^<{datatype}>" if datatype else text


_SPARQL_ESCAPES = {"\\": "\\u005C\\u005C", '"': '\\"', "\n": "\\n", "\r": "\\r",
                   "\t": "\\t"}
_SPARQL_STRING = re.compile(r'[\\"\n\r\t]')


_HEADER_FIELD = re.compile(r"#\s?(?P<key>[A-Za-z][\w-]*):\s*(?P<value>.*)")
_HEADER_MORE = re.compile(r"#\s{2,}(?P<value>\S.*)")


def parse_query(text: str, *, name: str, path: Path | None = None,
                named: bool = False) -> NamedQuery:
    """Read a query's header and check its parameters against the text.

    ``named`` queries (the files of the queries directory) must have a title and a
    description, and may use no header field but ``title``, ``description`` and
    ``param``; other queries may have any comments and need no header. Mistakes are
    DataErrors located by file (or ``name``) and line.
    """
    where = display_path(path) if path is not None else name

    def fail(line: int | None, problem: str) -> KgError:
        error = DataError if named else QueryError
        return error(f"{where}:{line}: {problem}" if line else f"{where}: {problem}")

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise fail(None, f"query too long: {size:,} bytes (the limit is {MAX_QUERY_BYTES:,})")
    fields: dict[str, str] = {}
    params: list[Param] = []
    last: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            last = None
            continue
        if not line.startswith("#"):
            break
        more = _HEADER_MORE.fullmatch(line)
        if more and last in ("title", "description"):
            fields[last] += " " + more["value"].strip()
            continue
        m = _HEADER_FIELD.fullmatch(line)
        key = m["key"] if m else None
        last = None
        if m is None or key not in ("title", "description", "param"):
            if named and m is not None:
                raise fail(number, f"unknown header field {key!r} "
                                   "(use title, description or param)")
            continue
        value = m["value"].strip()
        if key == "param":
            params.append(_param(value, functools.partial(fail, number)))
            continue
        if key in fields:
            raise fail(number, f"'{key}' given twice")
        if not value:
            raise fail(number, f"'{key}' is empty")
        fields[key] = value
        last = key
    if named:
        for key in ("title", "description"):
            if key not in fields:
                raise fail(1, f"the header has no '# {key}:' line")
    _check_params(text, params, fail, strict=named or bool(params))
    if named and query_form(text) is None:
        raise fail(None, "no SELECT, ASK, CONSTRUCT or DESCRIBE in the query")
    return NamedQuery(name=name, title=fields.get("title", name),
                      description=fields.get("description", ""), params=tuple(params),
                      text=text, path=path)


def _param(value: str, fail: Callable[[str], KgError]) -> Param:
    parts = value.split(maxsplit=2)
    if len(parts) < 2:
        raise fail("a parameter is declared as '# param: NAME TYPE [DEFAULT]'")
    name, kind = parts[0], parts[1]
    if not _PARAM_NAME.fullmatch(name):
        raise fail(f"bad parameter name {name!r} (letters, digits and _)")
    if kind not in PARAM_TYPES:
        raise fail(f"parameter {name!r}: unknown type {kind!r} "
                   f"(one of {', '.join(PARAM_TYPES)})")
    param = Param(name, kind, parts[2].strip() if len(parts) == 3 else None)
    if param.default is not None:
        try:
            param.term(param.default)
        except UsageError as exc:
            raise fail(f"bad default: {exc}") from None
    return param


def _check_params(text: str, params: list[Param],
                  fail: Callable[[int | None, str], KgError], *, strict: bool) -> None:
    """Check the declared parameters against the text. ``strict`` (a named query, or
    one that declares parameters): every ``$name`` must be a declared parameter;
    otherwise ``$name`` is an ordinary variable, as SPARQL has it."""
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise fail(None, f"parameter {dupes[0]!r} is declared twice")
    dollar, question = variables(text)
    for name in names:
        if name not in dollar:
            raise fail(None, f"parameter {name!r} is declared but the query never uses ${name}")
        if name in question:
            raise fail(None, f"parameter {name!r} is also written ?{name}: write ${name} "
                             "everywhere for a parameter")
    undeclared = sorted(dollar - set(names))
    if undeclared and strict:
        raise fail(None, f"the query uses ${undeclared[0]} but declares no parameter "
                         f"{undeclared[0]!r}: add '# param: {undeclared[0]} TYPE' or "
                         f"write ?{undeclared[0]}")


def load_queries(directory: Path) -> dict[str, NamedQuery]:
    """Every ``*.rq`` of ``directory`` by name (the file's stem), checked."""
    if not directory.is_dir():
        raise DataError(f"queries directory {directory} does not exist")
    return {q.name: q for q in (_load_file(path) for path in sorted(directory.glob("*.rq")))}


def _load_file(path: Path, named: bool = True) -> NamedQuery:
    name = path.stem
    if named and not _NAME.fullmatch(name):
        raise DataError(f"{display_path(path)}: a query name is lower-case words joined by "
                        f"'-' (got {name!r})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{display_path(path)}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise DataError(f"{display_path(path)}: {exc.strerror or exc}") from None
    return parse_query(text, name=name, path=path, named=named)


def find_query(name: str, directory: Path) -> NamedQuery:
    """The named query ``name`` of ``directory``; a UsageError suggesting close names."""
    path = directory / f"{name}.rq"
    if _NAME.fullmatch(name) and path.is_file():
        return _load_file(path)
    known = sorted(p.stem for p in directory.glob("*.rq")) if directory.is_dir() else []
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(f"no query named {name!r}{hint}; 'kg queries' lists them")


def resolve(query: str | Path | NamedQuery, directory: Path | None = None, *,
            text: bool = True) -> NamedQuery:
    """A query from a name (``causes-by-category``), a ``.rq`` file, or SPARQL text.

    A string of lower-case words joined by ``-`` is the name of a query in ``directory``
    (default: the queries shipped with kg); a ``Path``, or a one-line string ending in
    ``.rq``, is a file; anything else is the text of a query. With ``text=False`` (the
    command line's positional argument) anything but a name is a file.
    """
    if isinstance(query, NamedQuery):
        return query
    if isinstance(query, str) and _NAME.fullmatch(query):
        from .paths import default_queries_dir

        return find_query(query, directory or default_queries_dir())
    if isinstance(query, Path) or not text or ("\n" not in query and query.endswith(".rq")):
        path = Path(query)
        if not path.is_file():
            raise UsageError(f"no query named {str(query)!r} and no such file; "
                             "'kg queries' lists the names")
        return _load_file(path, named=False)
    return parse_query(query, name="query")


def execute(graph: Graph, query: Checked, *, max_rows: int | None = None) -> QueryResult:
    """Evaluate a checked query over the rdflib graph ``graph`` (rdflib both checked and
    runs it: one parser, one reading); at most ``max_rows`` rows (or triples). Errors
    while evaluating become QueryError."""
    from .check import _rdflib_sparql

    _rdflib_sparql()
    form = query.form
    try:
        result = graph.query(prepare(query.text))
        if form == "ASK":
            return QueryResult(form, boolean=bool(result.askAnswer))
        if form in ("CONSTRUCT", "DESCRIBE"):
            return graph_result(form, result.graph, max_rows)
        names = tuple(str(v) for v in result.vars or ())
        return select_result(names, (tuple(from_rdflib(t) for t in row)  # type: ignore[union-attr]
                                     for row in result), max_rows)
    except QueryError:
        raise
    except RecursionError:
        raise QueryError("query failed: nested too deeply") from None
    except Exception as exc:  # rdflib raises many exception types while evaluating
        raise QueryError(f"query failed: {first_line(exc)}") from None


def run(graph: Graph, query: str | Path | NamedQuery,
        params: Mapping[str, object] | None = None, *, directory: Path | None = None,
        max_rows: int | None = None) -> QueryResult:
    """Resolve ``query`` (a name, a ``.rq`` file or text; see :func:`resolve`), bind
    ``params``, check and run it over the rdflib graph ``graph``."""
    return execute(graph, check(resolve(query, directory).bind(params)), max_rows=max_rows)


def run_checked(backend: Backend, text: str, *, max_rows: int | None = None) -> QueryResult:
    """Check query ``text`` (see :func:`kg.check.check`) and run it on ``backend``: the
    build in memory, an Oxigraph store or a SPARQL endpoint (:mod:`kg.store`). The check
    happens here, before any backend sees the query, and the backend runs the checked
    text."""
    return backend.run(check(text), max_rows)


def run_query(backend: Backend, query: NamedQuery, params: Mapping[str, object] | None = None,
              *, max_rows: int | None = None) -> QueryResult:
    """Bind ``params`` into ``query``, check the bound text and run exactly that text on
    ``backend`` (in its sandboxed query process, for kg's own engine).

    The verdict on a query file's bound text (a named query or a ``.rq``) is remembered
    on disk, so a query run again with the same values costs rdflib's parser nothing.
    """
    return backend.run(checked_for(query, params), max_rows)


def checked_for(query: NamedQuery, params: Mapping[str, object] | None = None) -> Checked:
    """``query`` with ``params`` bound (:meth:`NamedQuery.bind`), checked."""
    return check(query.bind(params), persist=query.path is not None)
