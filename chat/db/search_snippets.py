"""The highlighted snippet of a search hit, as plain-text fragments (structures.md, "Search").

Why not ts_headline: it parses its input as HTML, so a message holding `<script>x</script>`
comes back without the tag and without `x`, and its markers are text the client would have to
inject as markup. Here a snippet is a list of `{"text", "match"}` fragments cut from the original
text, character for character: the console renders each as a text node (a match in `<mark>`),
so nothing a visitor wrote is ever parsed as HTML.

Which words match is PostgreSQL's decision, not a guess: each distinct word of the page's texts
is normalised with the same configurations as the index, and a word matches when one of its
lexemes is one of the query's positive lexemes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg

from chat.json_types import Json

# Words as Python sees them; PostgreSQL's parser splits a few things differently (hyphenated
# words, URLs), which at worst leaves a match unmarked, never marks a non-match.
_WORD = re.compile(r"\w+")
# A tsquery's text form: 'lexeme' terms, `!` before a negated one, '' for a quote inside.
_QUERY_TERM = re.compile(r"(!?)'((?:[^']|'')*)'")
# The snippet: from a little before the first match to this many characters in all; a message
# is at most 4000 characters, so most short ones come back whole.
SNIPPET_CHARS = 240
LEAD_CHARS = 60
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def query_lexemes(tsquery_texts: Iterable[str]) -> set[str]:
    """The lexemes a hit is highlighted for: the positive terms of these tsqueries' text."""
    found = set()
    for text in tsquery_texts:
        for negated, lexeme in _QUERY_TERM.findall(text):
            if not negated:
                found.add(lexeme.replace("''", "'"))
    return found


def word_lexemes(
    conn: psycopg.Connection, words: Sequence[str], configs: Sequence[str]
) -> dict[str, set[str]]:
    """Each word's lexemes under each text-search configuration, in one statement."""
    if not words:
        return {}
    rows = conn.execute(
        "SELECT w, array_agg(DISTINCT l) FROM unnest(%s::text[]) AS w,"
        " unnest(%s::regconfig[]) AS cfg,"
        " unnest(tsvector_to_array(to_tsvector(cfg, w))) AS l GROUP BY w",
        (list(words), list(configs)),
    ).fetchall()
    return {word: set(lexemes) for word, lexemes in rows}


def distinct_words(texts: Iterable[str]) -> list[str]:
    return sorted({m.group() for text in texts for m in _WORD.finditer(text)})


def matches(
    text: str, lexemes_of: dict[str, set[str]], wanted: set[str], *, prefix: bool = False
) -> list[Span]:
    """The spans of `text`'s words that normalise to a wanted lexeme (with `prefix`: to one
    starting with a wanted lexeme, as a `:*` query term matches)."""

    def hit(word: str) -> bool:
        lexemes = lexemes_of.get(word, set())
        if prefix:
            return any(lexeme.startswith(w) for lexeme in lexemes for w in wanted)
        return bool(lexemes & wanted)

    return [Span(m.start(), m.end()) for m in _WORD.finditer(text) if hit(m.group())]


def snippet(text: str, spans: Sequence[Span], width: int = SNIPPET_CHARS) -> list[Json]:
    """`text` cut to about `width` characters around its first match (whole when it fits), as
    fragments; an ellipsis fragment marks a cut end."""
    start = 0
    if len(text) > width and spans:
        start = max(0, spans[0].start - LEAD_CHARS)
        start = min(_word_start(text, start), spans[0].start)
    end = min(len(text), start + width)
    if end < len(text):
        end = _word_end(text, end)
    fragments: list[Json] = []
    if start > 0:
        fragments.append({"text": ELLIPSIS, "match": False})
    at = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        lo, hi = max(span.start, start), min(span.end, end)
        if lo > at:
            fragments.append({"text": text[at:lo], "match": False})
        fragments.append({"text": text[lo:hi], "match": True})
        at = hi
    if at < end:
        fragments.append({"text": text[at:end], "match": False})
    if end < len(text):
        fragments.append({"text": ELLIPSIS, "match": False})
    return fragments


def _word_start(text: str, at: int) -> int:
    """`at` moved forward past a word it would cut (and the space after it)."""
    if at == 0 or not (text[at - 1].isalnum() and text[at].isalnum()):
        return at
    while at < len(text) and text[at].isalnum():
        at += 1
    return at


def _word_end(text: str, at: int) -> int:
    """`at` moved back before a word it would cut."""
    if at >= len(text) or not (text[at - 1].isalnum() and text[at].isalnum()):
        return at
    back = at
    while back > 0 and text[back - 1].isalnum():
        back -= 1
    return back if back > 0 else at
