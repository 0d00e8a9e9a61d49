"""Parallel systems: two services at different agencies that do the same thing.

Two definitions are parallel when their agencies differ, their outcomes are the same (the same
document type, or the same kind of result), their audiences intersect (a service for persons
and businesses duplicates one for businesses only: for businesses both exist), and their
declared inputs overlap by at least :data:`THRESHOLD` — the Jaccard index of their items, an
item being ``registry-service-id#field`` for base data and ``document:<type>`` for documents.
Derived from the public catalogue only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from zistboom.window.catalogue.definitions import ServiceDefinition, declared_items
from zistboom.window.catalogue.service import StoredDefinition

THRESHOLD: Final = 0.8


@dataclass(frozen=True, slots=True)
class Finding:
    first: StoredDefinition
    second: StoredDefinition
    shared: list[str]
    only_first: list[str]
    only_second: list[str]
    overlap: float
    """The Jaccard index of the two services' declared items, 0..1."""


def outcome_key(definition: ServiceDefinition) -> tuple[str, str]:
    outcome = definition.outcome
    return (outcome.kind, outcome.document_type or "")


def overlap(first: frozenset[str], second: frozenset[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def parallel_systems(definitions: Sequence[StoredDefinition]) -> list[Finding]:
    """Every parallel pair, the largest overlap first."""
    findings = []
    ordered = sorted(definitions, key=lambda s: (s.agency, s.definition.code))
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            a, b = first.definition, second.definition
            if first.agency == second.agency or outcome_key(a) != outcome_key(b):
                continue
            if not set(a.audience) & set(b.audience):
                continue
            items_a, items_b = declared_items(a), declared_items(b)
            share = overlap(items_a, items_b)
            if share >= THRESHOLD:
                findings.append(
                    Finding(
                        first,
                        second,
                        sorted(items_a & items_b),
                        sorted(items_a - items_b),
                        sorted(items_b - items_a),
                        share,
                    )
                )
    findings.sort(key=lambda f: -f.overlap)
    return findings
