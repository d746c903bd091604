"""Stories: guided tours of the graph that ship with the data (``data/stories/*.yaml``).

A story is a title and a sequence of steps; each step names the facts it highlights
(by the ids of ``data/facts/*.yaml``) and says in a sentence or two why they matter.
The page shows each step's facts with the article's sentences they come from::

    title: Why pregnant women get cramps          # required
    summary: What the article says pregnancy ...   # optional, one paragraph
    population: pregnant women                      # optional: the page's "Facts for" filter
    steps:                                          # required, at least one
      - text: Almost every pregnant woman ...       # required: the narration
        facts: [pregnant-women-affected]            # required: fact ids
      - text: ...
        facts: [deficiencies-in-pregnancy, eclampsia-causes-seizures]

A fact id is the ``id`` of a fact in a facts file: it stands for every fact it expands
to (a fact with a list of subjects or objects becomes ``<id>--<subject>``...), or one of
them when written in full. Every mistake is a :class:`~kg.errors.FactsError` naming
the file and the line. No rdflib here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FactsError
from .facts import CONTROL_CHARACTERS, EXPANDED_SEPARATOR, ID_PATTERN, read_yaml

#: The directory of a data directory that holds the stories.
STORIES = "stories"
_FIELDS = ("title", "summary", "population", "steps")
_STEP_FIELDS = ("text", "facts")


@dataclass(frozen=True)
class Step:
    text: str
    facts: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Story:
    id: str  # the file name without .yaml
    title: str
    summary: str | None
    population: str | None
    steps: tuple[Step, ...]
    path: Path
    line: int


def load_stories(directory: Path) -> list[Story]:
    """Every ``*.yaml`` story of ``directory`` (none if it does not exist), by file name."""
    if not directory.is_dir():
        return []
    return [read_story(p) for p in sorted(directory.glob("*.yaml"))]


def read_story(path: Path) -> Story:
    """One story file, checked: a FactsError names the file and line of a mistake."""
    top = read_yaml(path)

    def fail(line: int | None, problem: str) -> FactsError:
        return FactsError(path, line, problem)

    if not isinstance(top, dict):
        raise fail(1, "a story must be a mapping with 'title' and 'steps'")
    lines: Mapping[str, int] = getattr(top, "lines", {})
    _unknown(top, _FIELDS, "story", fail)
    story_id = path.stem
    if not ID_PATTERN.match(story_id):
        raise fail(None, f"story file name {path.name!r} must be lower-case words joined "
                         "by '-' (it is the story's id in the page's address)")
    title = _text(top, "title", "story", fail, required=True)
    summary = _text(top, "summary", "story", fail)
    population = _text(top, "population", "story", fail)
    raw_steps = top.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail(lines.get("steps", getattr(top, "line", 1)),
                   "story: 'steps' must be a non-empty list")
    steps = []
    for number, raw in enumerate(raw_steps, 1):
        what = f"step {number}"
        if not isinstance(raw, dict):
            raise fail(lines["steps"], f"{what} must be a mapping with 'text' and 'facts'")
        _unknown(raw, _STEP_FIELDS, what, fail)
        text = _text(raw, "text", what, fail, required=True)
        facts = raw.get("facts")
        at = getattr(raw, "lines", {}).get("facts", getattr(raw, "line", None))
        if isinstance(facts, str):
            facts = [facts]
        if not isinstance(facts, list) or not facts:
            raise fail(at, f"{what}: 'facts' must be a fact id or a non-empty list of them")
        for fact in facts:
            if not isinstance(fact, str) or not _FACT_ID.match(fact):
                raise fail(at, f"{what}: {fact!r} is not a fact id (lower-case words "
                               "joined by '-')")
        assert text is not None
        steps.append(Step(text=text, facts=tuple(facts), line=getattr(raw, "line", 0)))
    assert title is not None
    return Story(id=story_id, title=title, summary=summary, population=population,
                 steps=tuple(steps), path=path, line=getattr(top, "line", 1))


_FACT_ID = re.compile(r"^[a-z0-9]+(?:-{1,2}[a-z0-9]+)*$")


def _unknown(m: dict[str, Any], allowed: Iterable[str], what: str, fail: Any) -> None:
    lines = getattr(m, "lines", {})
    for key in m:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(allowed)}"
            raise fail(lines.get(key), f"{what}: unknown field {key!r}{hint}")


def _text(m: dict[str, Any], key: str, what: str, fail: Any,
          required: bool = False) -> str | None:
    lines = getattr(m, "lines", {})
    value = m.get(key)
    if value is None:
        if required:
            raise fail(getattr(m, "line", None), f"{what}: missing required field {key!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(lines.get(key), f"{what}: {key!r} must be a non-empty string")
    if CONTROL_CHARACTERS.search(value):
        raise fail(lines.get(key), f"{what}: {key!r} holds a control character")
    return " ".join(value.split())


def resolve(story: Story, fact_ids: Mapping[str, list[str]], *,
            strict: bool) -> list[list[str]] | None:
    """The edge ids each step of ``story`` highlights, from ``fact_ids`` (a fact id ->
    the ids of the page's edges that carry it).

    A fact id names the facts with that id or expanded from it (``<id>--...``). With
    ``strict`` an id that names no fact is a FactsError at the step's line; otherwise
    the story is left out (``None``): the page draws part of the graph without it.
    """
    by_base: dict[str, list[str]] = {}
    for fid, ids in fact_ids.items():
        by_base.setdefault(fid.split(EXPANDED_SEPARATOR)[0], []).extend(ids)
    steps: list[list[str]] = []
    for number, step in enumerate(story.steps, 1):
        found_edges: list[str] = []
        for fid in step.facts:
            found = fact_ids.get(fid) or by_base.get(fid)
            if not found:
                if not strict:
                    return None
                close = difflib.get_close_matches(fid, list(by_base), n=3, cutoff=0.6)
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                raise FactsError(story.path, step.line,
                                 f"step {number}: no fact {fid!r} in the graph{hint}")
            found_edges.extend(e for e in found if e not in found_edges)
        steps.append(found_edges)
    return steps
