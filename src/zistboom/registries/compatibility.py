"""Whether a new version of a registry schema can be published over the old one.

The pure part of the rule (registry-design.md, "Compatibility of a new version"): a change that
could make a stored record invalid, or change which record a key names, is breaking; a field
newly ``x-unique`` is neither, as only the stored data can tell, so it is handed back for the
service to check. Everything else (new optional fields, relaxed constraints, new codes, flags,
titles) is compatible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zistboom.registries.schema import Field, RegistrySchema


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One breaking change: ``field`` is the dotted path (``owners.share``)."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """The breaking changes of a new version, and the fields whose uniqueness the service must
    check against the stored records before publishing it."""

    breaking: list[Incompatibility] = field(default_factory=list)
    needs_unique_check: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not self.breaking


def compare(old: RegistrySchema, new: RegistrySchema) -> Comparison:
    """Compare two versions of one registry's schema, field by field at every depth."""
    breaking: list[Incompatibility] = []
    if old.key.name != new.key.name:
        breaking.append(Incompatibility(old.key.name, "key changed"))
    _compare_fields(old.fields, new.fields, breaking)
    previous = {f.name: f for f in old.fields}
    unique = [
        f.name
        for f in new.fields
        if f.unique and not (f.name in previous and previous[f.name].unique)
    ]
    return Comparison(breaking=breaking, needs_unique_check=unique)


def _compare_fields(
    old: Sequence[Field], new: Sequence[Field], breaking: list[Incompatibility]
) -> None:
    after = {f.name: f for f in new}
    before = {f.name: f for f in old}
    for old_field in old:
        new_field = after.get(old_field.name)
        if new_field is None:
            breaking.append(Incompatibility(old_field.path, "removed"))
        else:
            _compare_field(old_field, new_field, breaking)
    for new_field in new:
        was = before.get(new_field.name)
        newly_required = new_field.required and (was is None or not was.required)
        if newly_required and not new_field.has_default:
            breaking.append(Incompatibility(new_field.path, "required without default"))


def _compare_field(old: Field, new: Field, breaking: list[Incompatibility]) -> None:
    if old.kind != new.kind and (old.kind, new.kind) != ("integer", "number"):
        breaking.append(Incompatibility(old.path, f"type changed from {old.kind} to {new.kind}"))
        return
    reasons = [
        *_narrowed_upper(old.fragment, new.fragment, "maxLength"),
        *_narrowed_lower(old.fragment, new.fragment, "minLength"),
        *_narrowed_upper(old.fragment, new.fragment, "maxItems"),
        *_narrowed_lower(old.fragment, new.fragment, "minItems"),
        *_narrowed_bounds(old.fragment, new.fragment),
        *_narrowed_pattern(old.fragment.get("pattern"), new.fragment.get("pattern")),
    ]
    if old.code_list is not None and new.code_list is not None:
        removed = [code for code in old.code_list if code not in new.code_list]
        if removed:
            reasons.append(f"narrowed: enum values removed: {', '.join(removed)}")
    if old.max_bytes is not None and new.max_bytes is not None and new.max_bytes < old.max_bytes:
        reasons.append(f"narrowed: x-max-bytes {old.max_bytes} → {new.max_bytes}")
    if old.media_type != new.media_type:
        reasons.append(f"narrowed: contentMediaType {old.media_type} → {new.media_type}")
    breaking.extend(Incompatibility(old.path, reason) for reason in reasons)
    if old.items is not None and new.items is not None:
        _compare_field(old.items, new.items, breaking)
    _compare_fields(old.properties, new.properties, breaking)


def _narrowed_upper(old: Mapping[str, Any], new: Mapping[str, Any], keyword: str) -> list[str]:
    before, after = old.get(keyword), new.get(keyword)
    if after is None or (before is not None and after >= before):
        return []
    if before is None:
        return [f"narrowed: {keyword} added ({after})"]
    return [f"narrowed: {keyword} {before} → {after}"]


def _narrowed_lower(old: Mapping[str, Any], new: Mapping[str, Any], keyword: str) -> list[str]:
    before, after = old.get(keyword, 0), new.get(keyword, 0)
    if after <= before:
        return []
    if keyword not in old:
        return [f"narrowed: {keyword} added ({after})"]
    return [f"narrowed: {keyword} {before} → {after}"]


def _bound(fragment: Mapping[str, Any], upper: bool) -> tuple[float, bool, str] | None:
    """The tighter of a side's inclusive and exclusive bounds: (value, exclusive, keyword)."""
    inclusive, exclusive = (
        ("maximum", "exclusiveMaximum") if upper else ("minimum", "exclusiveMinimum")
    )
    candidates = [(fragment[k], k == exclusive, k) for k in (inclusive, exclusive) if k in fragment]
    if not candidates:
        return None
    if upper:  # the smaller wins; on a tie the exclusive one
        return min(candidates, key=lambda c: (c[0], not c[1]))
    return max(candidates, key=lambda c: (c[0], c[1]))


def _narrowed_bounds(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    reasons = []
    for upper in (True, False):
        before, after = _bound(old, upper), _bound(new, upper)
        if after is None:
            continue
        if before is None:
            reasons.append(f"narrowed: {after[2]} added ({after[0]})")
            continue
        sign = 1 if upper else -1
        tighter = sign * after[0] < sign * before[0] or (
            after[0] == before[0] and after[1] and not before[1]
        )
        if tighter and before[2] == after[2]:
            reasons.append(f"narrowed: {after[2]} {before[0]} → {after[0]}")
        elif tighter:
            reasons.append(f"narrowed: {before[2]} {before[0]} → {after[2]} {after[0]}")
    return reasons


def _narrowed_pattern(before: str | None, after: str | None) -> list[str]:
    if after is None or after == before:
        return []
    if before is None:
        return [f"narrowed: pattern added ({after})"]
    return [f"narrowed: pattern changed from {before} to {after}"]
