"""Query text -> checked query: the one text kg checks and the engine runs.

Two SPARQL parsers read a query in kg: rdflib's, which judges it (no SERVICE, no FROM,
no update), and Oxigraph's, which runs it. Where they read one text differently, a
check can pass what the engine then does. The known difference: the SPARQL 1.1 spec
(section 19.2) expands ``\\uXXXX`` codepoint escapes across the whole text before
parsing, rdflib does so (with a looser pattern), Oxigraph only inside strings and IRIs;
and rdflib ends a comment at a line feed only, Oxigraph at a carriage return too.

So no text goes to either parser as it came. :func:`canonical` applies the spec's
pre-processing once (codepoint escapes expanded, line ends made ``\\n``) and refuses a
text that would still hold an escape afterwards (a ``\\`` that an escape produced, in
front of ``u0041``, say: the grammar has no place for one, and the two parsers would
expand it zero and one times). What it returns holds no escape, so rdflib's expansion
leaves it as it is and Oxigraph decodes nothing: both parse the same characters.
:func:`check` then prepends the ``BASE`` and ``PREFIX`` lines kg predeclares, checks that
final text and returns it (:class:`Checked`): the text the engine runs is the checked
text, character for character. A second reading, kg's own scanner, refuses SERVICE
and FROM keywords that rdflib might not see, so a bypass must now fool two readers
at once; and the engine runs in a process that cannot open a socket
(:mod:`kg.sandbox`), so a missed SERVICE cannot become a request.

Verdicts are remembered by a keyed hash (HMAC-SHA256 with a secret of the user's, kept
in kg's cache directory with mode 0600), in the process and, for query files, on
disk: a file planted in the cache cannot name a text it did not check, and the cache
is passed by unless the directory and the secret are the user's alone.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import QueryError, QueryRefused, first_line
from .scan import UPDATE_WORDS, query_form, tokens

if TYPE_CHECKING:
    from rdflib.plugins.sparql.sparql import Query

#: The longest query text kg accepts, in bytes of UTF-8 (64 KiB): from the command line,
#: the Python API and the HTTP endpoint alike.
MAX_QUERY_BYTES = 64 * 1024

#: The base IRI every query is read against (a ``BASE`` of the query's own wins):
#: relative IRIs name kg's resources, so ``<leg-cramp>`` is ``kgr:leg-cramp``.
BASE_IRI = "https://w3id.org/health-kg/resource/"

_ALGEBRA_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                  "DescribeQuery": "DESCRIBE"}

# The spec's codepoint escapes: \u and four hex digits, \U and eight.
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# A codepoint escape left after expansion: a backslash that no other escapes (an odd
# run of them) in front of u and four hex digits, which engines read differently.
_LEFT_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\[uU][0-9A-Fa-f]{4}")


def _check_size(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise QueryError(f"query too long: {size:,} bytes (the limit is {MAX_QUERY_BYTES:,})")


def canonical(text: str) -> str:
    """``text`` after the spec's pre-processing, applied once: codepoint escapes
    expanded and line ends (``\\r\\n``, ``\\r``) written ``\\n``.

    Raises QueryError for a text that is too long, an escape naming no character (a
    surrogate, past U+10FFFF), a character that is not Unicode text, or an escape left
    over after expansion (which SPARQL's grammar cannot hold and engines read
    differently). Apply it once: a ``\\\\u0041`` that it leaves (an escaped backslash,
    then text) would be expanded by a second pass.
    """
    _check_size(text)

    def expand(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise QueryError(f"malformed query: {m.group()} names no Unicode character")
        return chr(code)

    # line ends last, so that a carriage return an escape wrote is made \n too
    out = _ESCAPE.sub(expand, text).replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"[\ud800-\udfff]", out):
        raise QueryError("malformed query: the text holds a lone surrogate, not Unicode text")
    left = _LEFT_ESCAPE.search(out)
    if left is not None:
        line = out.count("\n", 0, left.start()) + 1
        raise QueryError(f"malformed query: line {line}: a codepoint escape made a "
                         f"backslash in front of another ({left.group().lstrip(chr(92))!r}); "
                         "SPARQL engines read that differently, so kg refuses it")
    _check_size(out)
    return out


def standalone(text: str) -> str:
    """``text`` with a ``BASE`` line (:data:`BASE_IRI`) and a ``PREFIX`` line for each
    predeclared prefix it uses and does not declare, so that it means the same on any
    SPARQL engine. Prepended lines only: a query's own BASE and PREFIX lines follow and
    win."""
    from .prefixes import NAMESPACES

    toks = list(tokens(text))
    declared = {toks[i + 1].text[:-1] for i, tok in enumerate(toks[:-1])
                if tok.kind == "word" and tok.text.upper() == "PREFIX"}
    used = {tok.text.split(":", 1)[0] for tok in toks
            if tok.kind == "word" and ":" in tok.text}
    lines = [f"BASE <{BASE_IRI}>"]
    lines += [f"PREFIX {p}: <{NAMESPACES[p]}>" for p in sorted(used - declared)
              if p in NAMESPACES]
    return "\n".join(lines) + "\n\n" + text


@dataclass(frozen=True)
class Checked:
    """A query kg checked: ``text`` is what the engine runs, exactly as checked."""

    text: str
    #: SELECT, ASK, CONSTRUCT or DESCRIBE
    form: str
    #: lines kg put before the query's own (BASE, PREFIX): error messages subtract them
    offset: int = 0

    def where(self, message: str) -> str:
        """``message`` (an error of rdflib's or Oxigraph's) with its line numbers counted
        in the query as written, not in the final text."""
        return shift_lines(message, self.offset)


def shift_lines(message: str, offset: int) -> str:
    """``message`` with the line numbers it names (rdflib's ``at line N``, Oxigraph's
    ``error at N:M``) made ``offset`` smaller."""
    if not offset:
        return message

    def line(number: str) -> str:
        return str(max(int(number) - offset, 1))

    message = re.sub(r"\bline (\d+)", lambda m: "line " + line(m.group(1)), message)
    return re.sub(r"\bat (\d+):(\d+)", lambda m: f"at {line(m.group(1))}:{m.group(2)}",
                  message)


# --------------------------------------------------------------------------- rdflib


def _rdflib_sparql() -> None:
    """Switch off rdflib's loading of graphs named in FROM / FROM NAMED (kg refuses
    those clauses anyway; this is the second lock on the same door)."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


@functools.cache
def _fix_rdflib_parser() -> None:
    """Two mistakes of rdflib 7's SPARQL grammar, mended in place: it cannot negate a
    decimal literal while parsing (``?s ?p -1.0`` raises TypeError in
    ``Literal.__neg__``), so negative literals are written from their text, as positive
    ones are; and pyparsing turns tabs into spaces before parsing, also inside strings,
    so the grammar is told to keep them."""
    import rdflib
    from rdflib.plugins.sparql import parser

    parser.Query.parse_with_tabs()

    for element in (parser.INTEGER_NEGATIVE, parser.DECIMAL_NEGATIVE, parser.DOUBLE_NEGATIVE):
        element.set_parse_action(
            lambda x: rdflib.Literal("-" + str(x[0]), datatype=x[0].datatype))


def prepare(text: str) -> Query:
    """Parse ``text`` with rdflib as it stands and refuse what kg never runs.

    ``text`` should be a final text (:func:`standalone` of :func:`canonical`): nothing
    is predeclared here. Raises :class:`QueryRefused` for an update, SERVICE or FROM /
    FROM NAMED (found by kg's scanner, then on rdflib's parse and algebra, before
    anything is evaluated) and :class:`QueryError` for a malformed query.
    """
    _rdflib_sparql()
    _fix_rdflib_parser()
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import Query as QueryGrammar

    form = query_form(text)
    if form in UPDATE_WORDS:
        raise QueryRefused(f"SPARQL Update ({form}) is not allowed: the graph is read-only")
    if not any(True for _ in tokens(text)):
        raise QueryError("empty query")
    _refuse_words(text)
    try:  # not parseQuery, which would expand codepoint escapes a second time
        parsed = QueryGrammar.parse_string(text, parse_all=True)
    except ParseBaseException as exc:
        raise QueryError(f"malformed query: {_parse_message(exc)}") from None
    except RecursionError:
        raise QueryError("malformed query: nested too deeply") from None
    except Exception as exc:  # rdflib's parse actions raise what they raise
        raise QueryError(f"malformed query: {first_line(exc)}") from None
    _refuse(parsed)
    try:
        query = translateQuery(parsed)
    except RecursionError:
        raise QueryError("malformed query: nested too deeply") from None
    except Exception as exc:  # rdflib raises bare Exceptions (e.g. an unknown prefix)
        raise QueryError(f"malformed query: {first_line(exc)}") from None
    _refuse(query.algebra)
    return query


def form_of(query: Query) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a query :func:`prepare` made."""
    return _ALGEBRA_FORMS[query.algebra.name]


def _refuse_words(text: str) -> None:
    """Refuse SERVICE and FROM as kg's scanner reads the text: a keyword outside
    strings, IRIs and comments can only be that keyword."""
    for tok in tokens(text):
        if tok.kind == "word":
            word = tok.text.upper()
            if word == "SERVICE":
                raise QueryRefused(_NO_SERVICE)
            if word == "FROM":
                raise QueryRefused(_NO_FROM)


_NO_SERVICE = "SERVICE is not allowed: kg never sends a query to another endpoint"
_NO_FROM = "FROM / FROM NAMED is not allowed: a query runs over kg's graph only"


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
        raise QueryRefused(_NO_SERVICE)
    if found:
        raise QueryRefused(_NO_FROM)


def _parse_message(exc: Exception) -> str:
    text = first_line(exc)
    return re.sub(r"\s*\(at char \d+\), \(line:(\d+), col:(\d+)\)",
                  r" at line \1, column \2", text)


# --------------------------------------------------------------------------- verdicts

#: Bumped whenever the rules change, so that remembered verdicts of the old ones lapse.
_CHECK_RULES = b"kg-check-2\0"
#: How many passed texts a process remembers before it starts again.
_MAX_CHECKED = 4096
_checked: dict[bytes, str] = {}
#: This process's key for its in-memory verdicts (never written anywhere).
_PROCESS_KEY = os.urandom(32)


def cache_dir() -> Path | None:
    """Where kg keeps what it may reuse between runs: ``$KG_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/kg``, else ``~/.cache/kg``; None when ``KG_CACHE_DIR`` is set
    to the empty string (no cache)."""
    if "KG_CACHE_DIR" in os.environ:
        return Path(os.environ["KG_CACHE_DIR"]) if os.environ["KG_CACHE_DIR"] else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kg"


def _private(path: Path, *, directory: bool) -> bool:
    """Whether ``path`` is a directory (or regular file) of this user's that no one
    else may write (a file: read either), not a symbolic link."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    kind = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    others = 0o022 if directory else 0o077
    return kind and st.st_uid == os.getuid() and not st.st_mode & others


def _secret(directory: Path) -> bytes | None:
    """The cache's secret key (32 random bytes in ``directory/secret``, made on first
    use with mode 0600), or None when the directory or the file could be someone
    else's: then nothing is read from or written to the cache."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not _private(directory, directory=True):
        return None
    path = directory / "secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return None
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    if not _private(path, directory=False):
        return None
    try:
        with open(path, "rb") as f:
            key = f.read(64)
    except OSError:
        return None
    return key if len(key) == 32 else None


def check(text: str, *, persist: bool = False) -> Checked:
    """Check query ``text`` and return the :class:`Checked` query: the final text
    (:func:`canonical`, then :func:`standalone`), which is what rdflib checked and what
    the engine must run, and its form. Raises as :func:`prepare` does.

    A text that passed is remembered by a keyed hash of its final text, in this process
    (up to 4,096 texts) and, with ``persist`` (query files), as a small file in
    :func:`cache_dir` ``/checked`` whose name is an HMAC under the cache's secret, so
    that a query file costs rdflib's parser once. Texts from outside (``-e``, HTTP,
    the Python API) are not persisted, so they cannot fill the disk.
    """
    written = canonical(text)
    if not any(True for _ in tokens(written)):
        raise QueryError("empty query")
    final = standalone(written)
    offset = final.count("\n") - written.count("\n")
    message = _CHECK_RULES + final.encode("utf-8")
    mine = hmac.new(_PROCESS_KEY, message, hashlib.sha256).digest()
    form = _checked.get(mine)
    if form is not None:
        return Checked(final, form, offset)
    directory = cache_dir() if persist else None
    secret = _secret(directory) if directory is not None else None
    path = None
    if directory is not None and secret is not None:
        path = directory / "checked" / hmac.new(secret, message, hashlib.sha256).hexdigest()
        try:
            form = path.read_text(encoding="ascii").strip() if _private(
                path, directory=False) else None
        except (OSError, UnicodeDecodeError):
            form = None
    if form is None or form not in _ALGEBRA_FORMS.values():
        try:
            form = form_of(prepare(final))
        except QueryError as exc:
            raise type(exc)(shift_lines(str(exc), offset)) from None
        if path is not None:
            _remember(path, form)
    if len(_checked) >= _MAX_CHECKED:
        _checked.clear()
    _checked[mine] = form
    return Checked(final, form, offset)


def _remember(path: Path, form: str) -> None:
    """Write ``form`` to ``path`` atomically (mode 0600); a cache that cannot be written
    is passed by."""
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        if not _private(path.parent, directory=True):
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(form)
        os.replace(tmp, path)
    except OSError:
        pass


def trusted(text: str, form: str) -> Checked:
    """kg's own query ``text`` (built by kg from escaped terms, never from a user's
    text), as a :class:`Checked` query without rdflib's parse: for the many, large
    queries that select subgraphs. It still runs in the sandboxed query process."""
    final = standalone(text)
    return Checked(final, form, final.count("\n") - text.count("\n"))
