"""Searching the catalogue in Persian and English.

Text is folded the same way on both sides: :func:`fold` is ``core.persian.normalize_text``
(Arabic ي/ى → ی, ك → ک, Persian and Arabic-Indic digits → ASCII, invisible controls dropped)
and then lower case. Terms are split at spaces, ZWNJ and punctuation, and each text also
indexes the joins of every run of two or three adjacent terms, so «کارت ملی», «کارت‌ملی» and
«کارتملی» meet.

Ranking: a name match (100) above a keyword match (10) above a summary match (1), per query
term, summed, so more matched terms rank higher; a prefix match counts half of a whole-term one.

The index is in memory, rebuilt when the catalogue's version in the database changes (every
write raises it), so several window processes stay in step; for thousands of services a
rebuild takes milliseconds and a query scans the index without touching the database. A
database's full-text search would differ between SQLite and PostgreSQL and knows nothing of
Persian spelling variants, so it was not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.persian import normalize_text
from zistboom.window.catalogue import service
from zistboom.window.catalogue.service import StoredDefinition

NAME: Final = 100.0
KEYWORD: Final = 10.0
SUMMARY: Final = 1.0
PREFIX: Final = 0.5
MAX_JOINED: Final = 3
_SPLIT: Final = re.compile(r"[\s\u200c\-_/.,،؛:;()«»\"'!?؟]+")


def fold(text: str) -> str:
    """``text`` as the index compares it (idempotent)."""
    folded = normalize_text(text).casefold()
    # casefold can leave a text normalize_text changes again (e.g. a ZWNJ next to ß → ss).
    while (again := normalize_text(folded).casefold()) != folded:
        folded = again
    return folded


def terms(text: str) -> list[str]:
    """The folded terms of ``text``, in order."""
    return [term for term in _SPLIT.split(fold(text)) if term]


def _runs(found: Sequence[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of every run of 2..MAX_JOINED adjacent terms."""
    for start in range(len(found)):
        for end in range(start + 2, min(start + MAX_JOINED, len(found)) + 1):
            yield start, end


def indexed_terms(text: str) -> set[str]:
    """The terms of ``text`` and the joins of runs of up to three adjacent ones."""
    found = terms(text)
    return set(found) | {"".join(found[start:end]) for start, end in _runs(found)}


@dataclass(frozen=True, slots=True)
class Entry:
    stored: StoredDefinition
    fields: tuple[tuple[float, frozenset[str]], ...]
    """(weight, terms) of the name, keywords and summary."""


@dataclass(frozen=True, slots=True)
class Hit:
    stored: StoredDefinition
    score: float


@dataclass(frozen=True, slots=True)
class Results:
    hits: list[Hit]
    total: int


@dataclass(slots=True)
class SearchIndex:
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def of(cls, definitions: Iterable[StoredDefinition]) -> SearchIndex:
        entries = []
        for stored in definitions:
            d = stored.definition
            entries.append(
                Entry(
                    stored,
                    (
                        (NAME, frozenset(indexed_terms(f"{d.name_fa} {d.name_en}"))),
                        (
                            KEYWORD,
                            frozenset(
                                t
                                for k in (*d.keywords_fa, *d.keywords_en)
                                for t in indexed_terms(k)
                            ),
                        ),
                        (SUMMARY, frozenset(indexed_terms(f"{d.summary_fa} {d.summary_en}"))),
                    ),
                )
            )
        return cls(entries)

    def search(
        self,
        query: str = "",
        *,
        ecosystem: str | None = None,
        agency: str | None = None,
        audience: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> Results:
        """The definitions matching ``query`` (all of them for an empty one) and the filters,
        best first; ``total`` counts them all, ``hits`` is the page."""
        wanted = terms(query)
        ranked: list[Hit] = []
        for entry in self.entries:
            d = entry.stored.definition
            if ecosystem and d.ecosystem != ecosystem:
                continue
            if agency and entry.stored.agency != agency:
                continue
            if audience and audience not in d.audience:
                continue
            score = _score(wanted, entry.fields) if wanted else 0.0
            if wanted and score == 0:
                continue
            ranked.append(Hit(entry.stored, score))
        ranked.sort(key=lambda h: (-h.score, h.stored.definition.name_en, h.stored.agency))
        return Results(ranked[offset : offset + limit], len(ranked))


def _quality(term: str, indexed: frozenset[str]) -> float:
    if term in indexed:
        return 1.0
    if len(term) >= 2 and any(other.startswith(term) for other in indexed):
        return PREFIX
    return 0.0


def _score(wanted: Sequence[str], fields: tuple[tuple[float, frozenset[str]], ...]) -> float:
    """The sum over query terms of their best match; adjacent query terms that together match
    one indexed term whole («کارت ملی» for «کارتملی») all count as whole matches there."""
    best = [0.0] * len(wanted)
    for weight, indexed in fields:
        for position, term in enumerate(wanted):
            best[position] = max(best[position], weight * _quality(term, indexed))
        for start, end in _runs(wanted):
            if "".join(wanted[start:end]) in indexed:
                for p in range(start, end):
                    best[p] = max(best[p], weight)
    return sum(best)


class CatalogueSearch:
    """The index of the catalogue at its version, rebuilt when the version moves."""

    def __init__(self) -> None:
        self.version = -1
        self.index = SearchIndex()

    def current(self, version: int) -> SearchIndex | None:
        """The index if it is of ``version``, else None (rebuild it with :meth:`rebuild`)."""
        return self.index if version == self.version else None

    def rebuild(self, version: int, definitions: Iterable[StoredDefinition]) -> SearchIndex:
        self.index = SearchIndex.of(definitions)
        self.version = version
        return self.index

    async def of_session(self, session: AsyncSession) -> SearchIndex:
        """The index of the catalogue as ``session`` sees it, rebuilt if it moved on."""
        version = await service.catalogue_version(session)
        current = self.current(version)
        if current is not None:
            return current
        return self.rebuild(version, await service.all_definitions(session))
