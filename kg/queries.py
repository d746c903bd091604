"""Named SPARQL queries: load them, bind their parameters, check them, run them, format
the results.

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
  (SPARQL treats both spellings as the same variable; kg gives ``$`` this one meaning).
  The loader checks that every declared parameter is used as ``$name``, that every
  ``$name`` is declared, and that a parameter is never also written ``?name``.
* Binding never formats a value into the text: the value becomes an RDF term
  (checked for its type, then written escaped in N-Triples syntax)
  in a ``VALUES ?name { term }`` block inserted at the start of the WHERE clause, and
  ``$name`` becomes ``?name``, so the bound text is an ordinary query. SPARQL joins a
  nested group ``{ }`` after evaluating it, so use parameters in the top-level group
  (a FILTER inside a nested group does not see them). rdflib pushes no bindings into a
  group of several parts, so write a named query to be efficient with its parameters
  unbound.

Every query text, named or not, goes through :func:`prepare` before it runs: its size is
capped (:data:`MAX_QUERY_BYTES`), it is parsed and translated by rdflib, and its algebra
is walked to refuse SERVICE, FROM / FROM NAMED and any update before anything is
evaluated. ``rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS`` is switched off as well.
:func:`check` remembers the texts that passed (by their SHA-256, in kg's cache
directory), and a named query is checked as written, before its parameters are bound,
so a named query costs rdflib's parser once, not at every run.

Results hold pyoxigraph terms, the engine of kg's own backends, and are formatted
without rdflib: this module imports rdflib only inside the functions that need it, so
``kg query`` on the build answers without ever loading rdflib.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import (
    DataError,
    KgError,
    QueryError,
    QueryRefused,
    UsageError,
    display_path,
    first_line,
)

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph
    from rdflib.plugins.sparql.sparql import Query
    from rdflib.term import Node

    from .store import Backend

    #: An RDF term of a result or a parameter: kg's query path uses pyoxigraph's terms
    #: (no rdflib import); :attr:`QueryResult.rows` gives rdflib's.
    Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal

#: The longest query text kg accepts, in bytes of UTF-8 (64 KiB): from the command line,
#: the Python API and the HTTP endpoint alike.
MAX_QUERY_BYTES = 64 * 1024

#: The four query forms, as :attr:`QueryResult.type` spells them.
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_ALGEBRA_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                  "DescribeQuery": "DESCRIBE"}
_UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD",
                           "MOVE", "COPY", "WITH"})
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# --------------------------------------------------------------------------- scanning

# A small SPARQL scanner: enough to tell comments, strings and IRIs from the code around
# them, so that a '$name', a '{' or a keyword inside a string or a comment is never taken
# for code. rdflib's parser remains the judge of whether a query is well formed.
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
               | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               | '(?:[^'\\\r\n]|\\.)*'
               | "(?:[^"\\\r\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF]+)
    | (?P<word>[A-Za-z_][\w.\-]*(?::[^\s{}()\[\];,<>"'\#/|^*+?!=&]*)?
             | :[^\s{}()\[\];,<>"'\#/|^*+?!=&]*)
    | (?P<open>[{(])
    | (?P<close>[})])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokens(text: str) -> Iterator[_Token]:
    """The code tokens of ``text``: no comments, no white space."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("comment", "space"):
            yield _Token(kind, m.group(), m.start(), m.end())


def query_form(text: str) -> str | None:
    """The first keyword of ``text`` that names a query form or an update operation
    (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``, ``INSERT``, ``LOAD``...)."""
    for tok in _tokens(text):
        word = tok.text.upper()
        if tok.kind == "word" and (word in QUERY_FORMS or word in _UPDATE_WORDS):
            return word
    return None


def _where_start(text: str) -> int | None:
    """The offset just after the ``{`` that opens the WHERE clause of ``text``, or None.

    The clause is the first top-level group after the keyword WHERE; without the keyword
    (``ASK { ... }``, ``SELECT * { ... }``) it is the first top-level group, except in a
    CONSTRUCT, whose first group is the template.
    """
    depth = 0
    seen_where = False
    construct = query_form(text) == "CONSTRUCT"
    for tok in _tokens(text):
        if tok.kind == "open":
            if depth == 0 and tok.text == "{" and (seen_where or not construct):
                return tok.end
            depth += 1
        elif tok.kind == "close":
            depth = max(depth - 1, 0)
        elif depth == 0 and tok.kind == "word" and tok.text.upper() == "WHERE":
            seen_where = True
    return None


def _variables(text: str) -> tuple[set[str], set[str]]:
    """The names used as ``$name`` and as ``?name`` in the code of ``text``."""
    dollar: set[str] = set()
    question: set[str] = set()
    for tok in _tokens(text):
        if tok.kind == "var":
            (dollar if tok.text[0] == "$" else question).add(tok.text[1:])
    return dollar, question


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

    def bind(self, values: Mapping[str, object] | None = None) -> str:
        """The query text with its parameters bound to ``values`` (defaults for the ones
        not given), each in a ``VALUES`` block at the start of the WHERE clause.

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
    for tok in _tokens(text):
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
    at = _where_start(text)
    if at is None:
        raise QueryError("cannot bind parameters: the query has no WHERE clause")
    block = "".join(f" VALUES ?{name} {{ {_sparql_term(term)} }}"
                    for name, term in terms.items())
    return f"{text[:at]}{block}{text[at:]}"


def _sparql_term(term: Term) -> str:
    """``term`` as SPARQL text that every engine reads back as exactly ``term``.

    Strings are the hard part, because engines disagree on ``\\uXXXX``: the SPARQL
    spec has codepoint escapes expanded in the whole text before parsing (rdflib does,
    even after an escaped backslash), while others read them as escapes inside strings
    only (Oxigraph). So the text of a string never holds a backslash followed by ``u``
    or ``U`` except as an escape of a plain letter: ``"``, ``\\``, newline, return and
    tab are written as the escapes ``\\"``, ``\\\\``, ``\\n``, ``\\r``,
    ``\\t``, and a ``u`` or ``U`` that follows a backslash of the value as
    ``\\U00000075`` or ``\\U00000055``, which both readings turn into the letter (eight
    digits: rdflib would join a digit after a four-digit escape to it). A value can
    therefore never end its string early, on any engine. IRIs were checked to hold no ``\\``,
    ``<``, ``>`` or space (:func:`_to_iri`); numbers and booleans are digits and words.
    """
    import pyoxigraph

    if not isinstance(term, pyoxigraph.Literal):
        return _nt_term(term)
    text = '"' + _SPARQL_STRING.sub(lambda m: _SPARQL_ESCAPES[m.group()], term.value) + '"'
    datatype = _datatype(term)
    if term.language:
        return f"{text}@{term.language}"
    return f"{text}^^<{datatype}>" if datatype else text


_SPARQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
                   "u": "\\U00000075", "U": "\\U00000055"}
_SPARQL_STRING = re.compile(r'[\\"\n\r\t]|(?<=\\)[uU]')


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
    _check_params(text, params, fail)
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
                  fail: Callable[[int | None, str], KgError]) -> None:
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise fail(None, f"parameter {dupes[0]!r} is declared twice")
    dollar, question = _variables(text)
    for name in names:
        if name not in dollar:
            raise fail(None, f"parameter {name!r} is declared but the query never uses ${name}")
        if name in question:
            raise fail(None, f"parameter {name!r} is also written ?{name}: write ${name} "
                             "everywhere for a parameter")
    undeclared = sorted(dollar - set(names))
    if undeclared:
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


def standalone(text: str) -> str:
    """``text`` with a PREFIX line for each predeclared prefix it uses and does not
    declare, so that it runs on any SPARQL endpoint."""
    from .prefixes import NAMESPACES

    tokens = list(_tokens(text))
    declared = {tokens[i + 1].text[:-1] for i, tok in enumerate(tokens[:-1])
                if tok.kind == "word" and tok.text.upper() == "PREFIX"}
    used = {tok.text.split(":", 1)[0] for tok in tokens
            if tok.kind == "word" and ":" in tok.text}
    lines = [f"PREFIX {p}: <{NAMESPACES[p]}>" for p in sorted(used - declared)
             if p in NAMESPACES]
    return "\n".join(lines) + ("\n\n" if lines else "") + text


# --------------------------------------------------------------------------- checking


def _rdflib_sparql() -> None:
    """Switch off rdflib's loading of graphs named in FROM / FROM NAMED (kg refuses
    those clauses anyway; this is the second lock on the same door)."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


def prepare(text: str) -> Query:
    """Parse ``text`` into an rdflib query, refusing what kg never runs.

    Raises :class:`QueryRefused` for an update, SERVICE or FROM / FROM NAMED (found on
    the parsed query and its algebra, before anything is evaluated) and
    :class:`QueryError` for a query that is too long or malformed. Standard and kg
    prefixes (:data:`kg.prefixes.NAMESPACES`) are predeclared; the query's own PREFIX lines
    take precedence.
    """
    _rdflib_sparql()
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    from .prefixes import NAMESPACES

    _check_size(text)
    form = query_form(text)
    if form in _UPDATE_WORDS:
        raise QueryRefused(f"SPARQL Update ({form}) is not allowed: the graph is read-only")
    if not any(True for _ in _tokens(text)):
        raise QueryError("empty query")
    try:
        parsed = parseQuery(text)
    except ParseBaseException as exc:
        raise QueryError(f"malformed query: {_parse_message(exc)}") from None
    except ValueError as exc:  # a codepoint escape (\\uXXXX) that names no code point
        raise QueryError(f"malformed query: {first_line(exc)}") from None
    except RecursionError:
        raise QueryError("malformed query: nested too deeply") from None
    _refuse(parsed)
    try:
        query = translateQuery(parsed, initNs=NAMESPACES)
    except RecursionError:
        raise QueryError("malformed query: nested too deeply") from None
    except Exception as exc:  # rdflib raises bare Exceptions (e.g. an unknown prefix)
        raise QueryError(f"malformed query: {first_line(exc)}") from None
    _refuse(query.algebra)
    return query


def _refuse(tree: Any) -> None:
    """Raise QueryRefused if the parse tree or algebra ``tree`` holds a SERVICE call or
    a dataset clause anywhere (subqueries, EXISTS, OPTIONAL... included)."""
    from rdflib.plugins.sparql.algebra import traverse
    from rdflib.plugins.sparql.parserutils import CompValue

    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append("SERVICE")
            elif node.name == "DatasetClause" or dict.get(node, "datasetClause"):
                found.append("FROM")

    traverse(tree, visitPre=visit)
    if "SERVICE" in found:
        raise QueryRefused("SERVICE is not allowed: kg never sends a query to another endpoint")
    if found:
        raise QueryRefused("FROM / FROM NAMED is not allowed: a query runs over kg's graph "
                           "only")


def _parse_message(exc: Exception) -> str:
    text = first_line(exc)
    return re.sub(r"\s*\(at char \d+\), \(line:(\d+), col:(\d+)\)",
                  r" at line \1, column \2", text)


# --------------------------------------------------------------------------- checks, cached


#: Bumped whenever :func:`prepare`'s rules change, so that :func:`check` forgets what the
#: old rules let through.
_CHECK_RULES = b"kg-check-1\0"
_checked: dict[str, str] = {}
#: How many passed texts a process remembers before it starts again.
_MAX_CHECKED = 4096


def _check_size(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise QueryError(f"query too long: {size:,} bytes (the limit is {MAX_QUERY_BYTES:,})")


def cache_dir() -> Path | None:
    """Where kg keeps what it may reuse between runs: ``$KG_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/kg``, else ``~/.cache/kg``; None when ``KG_CACHE_DIR`` is set
    to the empty string (no cache)."""
    import os

    if "KG_CACHE_DIR" in os.environ:
        return Path(os.environ["KG_CACHE_DIR"]) if os.environ["KG_CACHE_DIR"] else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kg"


def check(text: str, *, persist: bool = False) -> str:
    """Check query ``text`` as :func:`prepare` does and return its form (SELECT, ASK,
    CONSTRUCT or DESCRIBE); raise as :func:`prepare` does.

    A text that passed is remembered by the SHA-256 of the text, in this process (up to
    :data:`_MAX_CHECKED` texts) and, with ``persist``, as a small file in
    :func:`cache_dir` ``/checked`` for later runs, so that a query file costs rdflib's
    parser once, not at every ``kg query`` (a named query's text is its template:
    binding parameters only adds escaped terms, see :func:`run_query`). Only passes are
    remembered; a cache that cannot be read or written is passed by. Texts from outside
    (``-e``, the Python API) are not persisted, so they cannot fill the disk.
    """
    _check_size(text)
    key = hashlib.sha256(_CHECK_RULES + text.encode("utf-8", "surrogatepass")).hexdigest()
    form = _checked.get(key)
    if form is not None:
        return form
    if len(_checked) >= _MAX_CHECKED:
        _checked.clear()
    directory = cache_dir() if persist else None
    path = directory / "checked" / key if directory is not None else None
    if path is not None:
        try:
            form = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            form = None
        if form in QUERY_FORMS:
            _checked[key] = form
            return form
    form = form_of(prepare(text))
    _checked[key] = form
    if path is not None:
        _remember(path, form)
    return form


def _remember(path: Path, form: str) -> None:
    """Write ``form`` to ``path`` atomically; a cache that cannot be written is skipped."""
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(form)
        os.replace(tmp, path)
    except OSError:
        pass


# --------------------------------------------------------------------------- running


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


def form_of(query: Query) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query :func:`prepare` made."""
    return _ALGEBRA_FORMS[query.algebra.name]


def execute(graph: Graph, query: Query, *, max_rows: int | None = None) -> QueryResult:
    """Evaluate a query :func:`prepare` made over the rdflib graph ``graph``; at most
    ``max_rows`` rows (or triples). Errors while evaluating become QueryError."""
    _rdflib_sparql()
    form = form_of(query)
    try:
        result = graph.query(query)
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


def run(graph: Graph, query: str | Path | NamedQuery,
        params: Mapping[str, object] | None = None, *, directory: Path | None = None,
        max_rows: int | None = None) -> QueryResult:
    """Resolve ``query`` (a name, a ``.rq`` file or text; see :func:`resolve`), bind
    ``params``, check and run it over the rdflib graph ``graph``."""
    return execute(graph, prepare(resolve(query, directory).bind(params)), max_rows=max_rows)


def run_checked(backend: Backend, text: str, *, max_rows: int | None = None) -> QueryResult:
    """Check query ``text`` (see :func:`check`) and run it on ``backend``: the build in
    memory, an Oxigraph store or a SPARQL endpoint (:mod:`kg.store`). The check happens
    here, before any backend sees the query."""
    form = check(text)
    return backend.run(standalone(text), form, max_rows)


def run_query(backend: Backend, query: NamedQuery, params: Mapping[str, object] | None = None,
              *, max_rows: int | None = None) -> QueryResult:
    """Check ``query``'s text, bind ``params`` and run it on ``backend``.

    The check is of the text as written, parameters unbound (so its verdict is cached
    once for every binding, on disk for a query file): binding adds only a ``VALUES``
    block of escaped terms at the start of the WHERE clause, which can add no SERVICE,
    FROM or update to a query and cannot change its form.
    """
    form = check(query.text, persist=query.path is not None)
    bound = query.bind(params)
    _check_size(bound)
    return backend.run(standalone(bound), form, max_rows)


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
GRAPH_FORMATS = ("ttl", "nt", "jsonld")


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
