"""What an evidence bundle covers (ZB-STD-005 §8.1) and the completeness checks of §9 step 12.

A bundle is not signed as a whole, so records could be left out of it or moved about without
breaking any record's own checks. The exporter therefore states what the bundle covers:

- **messages**: for each message id, the records of its exchange (every request and response on
  every gateway, instance and side the exporter holds), listed by (gateway, instance, seq). The
  verifier requires each listed record, in the listed order, and a complete exchange on every
  (gateway, instance, side): request, response, request, response ... (a retry is one more pair),
  beginning with a request and ending with a response. A response removed together with its
  listing still leaves a request without its response.
- **ranges**: a contiguous run ``first_seq`` to ``last_seq`` of one chain; every seq of it must be
  in the bundle.

This module holds the statement's model, its JSON form and the checks; it knows nothing of the
rest of a record, which :mod:`zistboom.core.evidence` passes in as :class:`CoveredRecord`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zistboom.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class RecordKey:
    """Where a record sits: its gateway's chain of one instance, and its seq. ``gateway`` is
    ``None`` only for records logged before records carried it (ZB-STD-005 1.0)."""

    gateway: str | None
    instance: str
    seq: int

    def sort_key(self) -> tuple[bool, str, str, int]:
        return (self.gateway is not None, self.gateway or "", self.instance, self.seq)

    def to_json(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "instance": self.instance, "seq": self.seq}

    def describe(self) -> str:
        gateway = "no gateway" if self.gateway is None else f"gateway {self.gateway}"
        return f"seq {self.seq} of instance {self.instance} ({gateway})"


@dataclass(frozen=True, slots=True)
class MessageCoverage:
    """All records of one message id that the bundle holds, in (gateway, instance, seq) order."""

    message_id: str
    records: tuple[RecordKey, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "records": [key.to_json() for key in self.records],
        }


@dataclass(frozen=True, slots=True)
class RangeCoverage:
    """Every record ``first_seq`` to ``last_seq`` of one chain."""

    gateway: str | None
    instance: str
    first_seq: int
    last_seq: int

    def to_json(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway,
            "instance": self.instance,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
        }

    def describe(self) -> str:
        gateway = "no gateway" if self.gateway is None else f"gateway {self.gateway}"
        return (
            f"range seq {self.first_seq} to {self.last_seq} of instance {self.instance} ({gateway})"
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """The ``covers`` member of a bundle."""

    messages: tuple[MessageCoverage, ...] = ()
    ranges: tuple[RangeCoverage, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [message.to_json() for message in self.messages],
            "ranges": [run.to_json() for run in self.ranges],
        }


@dataclass(frozen=True, slots=True)
class CoveredRecord:
    """What the completeness checks need of a record that parsed."""

    key: RecordKey
    message_id: str
    kind: str
    side: str


def message_coverage(records: Iterable[CoveredRecord], message_ids: Iterable[str]) -> Coverage:
    """The statement that the bundle covers ``message_ids`` with every record of them given."""
    wanted = sorted(set(message_ids))
    by_message: dict[str, list[RecordKey]] = {message_id: [] for message_id in wanted}
    for record in records:
        if record.message_id in by_message:
            by_message[record.message_id].append(record.key)
    return Coverage(
        messages=tuple(
            MessageCoverage(message_id, tuple(sorted(keys, key=RecordKey.sort_key)))
            for message_id, keys in by_message.items()
        )
    )


def range_coverage(keys: Iterable[RecordKey]) -> Coverage:
    """The statement that the bundle covers, for each chain, the run from the lowest to the
    highest of ``keys`` (which the caller must make contiguous)."""
    bounds: dict[tuple[str | None, str], tuple[int, int]] = {}
    for key in keys:
        chain = (key.gateway, key.instance)
        low, high = bounds.get(chain, (key.seq, key.seq))
        bounds[chain] = (min(low, key.seq), max(high, key.seq))
    ordered = sorted(bounds.items(), key=lambda item: (item[0][0] is not None, *map(str, item[0])))
    return Coverage(
        ranges=tuple(
            RangeCoverage(gateway, instance, low, high)
            for (gateway, instance), (low, high) in ordered
        )
    )


# --------------------------------------------------------------------------------------------
# Parsing


class CoverageMalformed(ValidationError):
    """The ``covers`` member does not have the shape of ZB-STD-005 §8.1."""


_COVERS_KEYS: Final = frozenset({"messages", "ranges"})
_MESSAGE_KEYS: Final = frozenset({"message_id", "records"})
_KEY_KEYS: Final = frozenset({"gateway", "instance", "seq"})
_RANGE_KEYS: Final = frozenset({"gateway", "instance", "first_seq", "last_seq"})


def _object(value: object, keys: frozenset[str], what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CoverageMalformed(f"{what} is not a JSON object")
    if value.keys() != keys:
        raise CoverageMalformed(f"{what} must have exactly the members {', '.join(sorted(keys))}")
    return value


def _text(value: object, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise CoverageMalformed(f"{what} must be a non-empty string")
    return value


def _seq(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CoverageMalformed(f"{what} must be an integer of at least 1")
    return value


def _key(value: object, what: str) -> RecordKey:
    data = _object(value, _KEY_KEYS, what)
    instance = _text(data["instance"], f"{what}: instance")
    assert instance is not None
    return RecordKey(
        _text(data["gateway"], f"{what}: gateway", optional=True),
        instance,
        _seq(data["seq"], f"{what}: seq"),
    )


def parse_coverage(value: object) -> Coverage:
    """The ``covers`` member; :class:`CoverageMalformed` naming what is wrong."""
    data = _object(value, _COVERS_KEYS, "covers")
    if not isinstance(data["messages"], list) or not isinstance(data["ranges"], list):
        raise CoverageMalformed("covers: messages and ranges must be JSON arrays")
    messages = []
    for position, item in enumerate(data["messages"]):
        what = f"covers.messages[{position}]"
        entry = _object(item, _MESSAGE_KEYS, what)
        message_id = _text(entry["message_id"], f"{what}: message_id")
        assert message_id is not None
        if not isinstance(entry["records"], list) or not entry["records"]:
            raise CoverageMalformed(f"{what}: records must be a non-empty JSON array")
        keys = tuple(
            _key(key, f"{what}.records[{index}]") for index, key in enumerate(entry["records"])
        )
        messages.append(MessageCoverage(message_id, keys))
    ranges = []
    for position, item in enumerate(data["ranges"]):
        what = f"covers.ranges[{position}]"
        entry = _object(item, _RANGE_KEYS, what)
        instance = _text(entry["instance"], f"{what}: instance")
        assert instance is not None
        first, last = (
            _seq(entry["first_seq"], f"{what}: first_seq"),
            _seq(entry["last_seq"], f"{what}: last_seq"),
        )
        if last < first:
            raise CoverageMalformed(f"{what}: last_seq {last} is before first_seq {first}")
        ranges.append(
            RangeCoverage(
                _text(entry["gateway"], f"{what}: gateway", optional=True), instance, first, last
            )
        )
    if not messages and not ranges:
        raise CoverageMalformed("covers names no message and no range: the bundle covers nothing")
    return Coverage(tuple(messages), tuple(ranges))


# --------------------------------------------------------------------------------------------
# Checking


def order_problems(keys: Sequence[RecordKey | None]) -> list[str]:
    """The records array must be ordered by gateway, instance and seq (§8); a record that is not
    after the one before it is out of order. ``None`` stands for a record too malformed to
    place, which is skipped."""
    problems = []
    previous: tuple[int, RecordKey] | None = None
    for position, key in enumerate(keys):
        if key is None:
            continue
        if previous is not None and key.sort_key() <= previous[1].sort_key():
            problems.append(
                f"order: records[{position}] ({key.describe()}) comes after "
                f"records[{previous[0]}] ({previous[1].describe()}); records must be ordered by "
                "gateway, instance and seq"
            )
        previous = (position, key)
    return problems


def coverage_problems(coverage: Coverage, records: Sequence[CoveredRecord]) -> list[str]:
    """Every way in which the bundle's records fall short of what ``coverage`` states."""
    by_key = {record.key: record for record in records}
    problems: list[str] = []
    for message in coverage.messages:
        problems.extend(_message_problems(message, by_key, records))
    for run in coverage.ranges:
        problems.extend(_range_problems(run, by_key))
    return problems


def _message_problems(
    message: MessageCoverage,
    by_key: Mapping[RecordKey, CoveredRecord],
    records: Sequence[CoveredRecord],
) -> Iterable[str]:
    what = f"covers: message {message.message_id}"
    listed = set(message.records)
    if len(listed) != len(message.records):
        yield f"{what}: lists a record more than once"
    if list(message.records) != sorted(message.records, key=RecordKey.sort_key):
        yield f"{what}: its records are listed out of order (by gateway, instance and seq)"
    present: list[CoveredRecord] = []
    for key in message.records:
        record = by_key.get(key)
        if record is None:
            yield f"{what}: record {key.describe()} is missing from the bundle"
        elif record.message_id != message.message_id:
            yield f"{what}: record {key.describe()} is a record of message {record.message_id}"
        else:
            present.append(record)
    for record in records:
        if record.message_id == message.message_id and record.key not in listed:
            yield f"{what}: record {record.key.describe()} is in the bundle but not listed"
    exchanges: dict[tuple[str | None, str, str], list[CoveredRecord]] = {}
    for record in sorted({r.key: r for r in present}.values(), key=lambda r: r.key.sort_key()):
        exchanges.setdefault((record.key.gateway, record.key.instance, record.side), []).append(
            record
        )
    for run in exchanges.values():
        expected = "request"
        for record in run:
            if record.kind != expected:
                if record.kind == "response":
                    yield f"{what}: the response {record.key.describe()} has no request before it"
                else:
                    yield (
                        f"{what}: the request before {record.key.describe()} "
                        f"(side {record.side}) has no response"
                    )
                continue
            expected = "response" if expected == "request" else "request"
        if expected == "response":
            last = run[-1]
            yield f"{what}: the request {last.key.describe()} (side {last.side}) has no response"


def _range_problems(run: RangeCoverage, by_key: Mapping[RecordKey, CoveredRecord]) -> Iterable[str]:
    missing = [
        seq
        for seq in range(run.first_seq, run.last_seq + 1)
        if RecordKey(run.gateway, run.instance, seq) not in by_key
    ]
    if missing:
        yield f"covers: {run.describe()}: seq {_runs(missing)} missing from the bundle"


def _runs(numbers: Sequence[int]) -> str:
    """``[3, 4, 5, 9]`` as ``3 to 5, 9``."""
    parts: list[str] = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start} to {previous}")
        if number is not None:
            start = previous = number
    return ", ".join(parts)
