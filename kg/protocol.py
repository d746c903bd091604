"""The SPARQL 1.1 Protocol's side of an answer: which media types kg offers, content
negotiation, and the HTTP response to one query text. Used by the endpoint's query
workers (:mod:`kg.engine`); no HTTP library here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .check import Checked, check
from .errors import QueryError, QueryRefused
from .results import QueryResult, serialize

#: Media types offered for SELECT and ASK results, best first, with kg's format names.
RESULT_MEDIA_TYPES: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("application/xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
)
#: Media types offered for CONSTRUCT and DESCRIBE results (formats of kg.export.FORMATS).
GRAPH_MEDIA_TYPES: tuple[tuple[str, str], ...] = (
    ("text/turtle", "ttl"),
    ("application/turtle", "ttl"),
    ("application/x-turtle", "ttl"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"),
)
_TEXT_TYPES = ("text/", "application/n-triples")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def text(cls, status: int, message: str,
             headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """A plain-text message (one line; never a traceback)."""
        return cls(status, (message.strip() + "\n").encode("utf-8"),
                   (("Content-Type", "text/plain; charset=utf-8"), *headers))


def negotiate(accept: str | None,
              offers: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    """The offer (media type, format) that ``accept`` (an HTTP Accept header) likes best,
    or None if it accepts none. Each offer takes the quality of the most specific range
    that matches it; ties go to the earlier offer. No header means ``*/*``."""
    ranges: list[tuple[str, str, float]] = []
    for item in (accept or "*/*").split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if "/" not in media:
            continue
        main, sub = media.split("/", 1)
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((main, sub, q))
    best: tuple[float, int, tuple[str, str]] | None = None
    for index, offer in enumerate(offers):
        main, sub = offer[0].split("/", 1)
        matches = [(2 if (m, s) == (main, sub) else 1 if (m, s) == (main, "*") else 0, q)
                   for m, s, q in ranges
                   if (m, s) in ((main, sub), (main, "*"), ("*", "*"))]
        if not matches:
            continue
        q = max(matches)[1]
        if q > 0 and (best is None or q > best[0]):
            best = (q, index, offer)
    return best[2] if best else None


def offers_for(form: str) -> tuple[tuple[str, str], ...]:
    """The media types that can carry a ``form`` query's result."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        return GRAPH_MEDIA_TYPES
    if form == "ASK":
        return tuple(o for o in RESULT_MEDIA_TYPES if o[1] not in ("csv", "tsv"))
    return RESULT_MEDIA_TYPES


def answer(run: Callable[[Checked, int], QueryResult], text: str, accept: str | None,
           max_rows: int) -> Response:
    """The HTTP response to query ``text``: checked (403 for what kg refuses, 400 for a
    malformed query), run by ``run`` on exactly the checked text, and written in the
    format ``accept`` likes (406 if none fits)."""
    try:
        checked = check(text)
    except QueryRefused as exc:
        return Response.text(403, str(exc))
    except QueryError as exc:
        return Response.text(400, str(exc))
    offers = offers_for(checked.form)
    chosen = negotiate(accept, offers)
    if chosen is None:
        return Response.text(406, f"none of the accepted media types ({accept}) can carry "
                                  f"{checked.form} results; this endpoint offers "
                                  + ", ".join(media for media, _ in offers))
    media, fmt = chosen
    try:
        result = run(checked, max_rows)
    except QueryError as exc:
        return Response.text(400, str(exc))
    headers = [("Content-Type", media + ("; charset=utf-8" if media.startswith(_TEXT_TYPES)
                                         else ""))]
    if result.truncated:
        headers.append(("X-Kg-Truncated", f"max-rows={max_rows}"))
    return Response(200, serialize(result, fmt), tuple(headers))
