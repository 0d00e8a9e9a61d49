"""ZB-STD-001 holds: every example block in the standard is found, understood and true."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import (
    GatewayId,
    MemberId,
    PersonId,
    ServiceId,
    SubsystemId,
    identifier_from_dict,
    parse_client_header,
)
from zistboom.core.iran import (
    validate_foreign_national_id,
    validate_iban,
    validate_legal_entity_id,
    validate_mobile,
    validate_national_code,
    validate_postal_code,
)

STANDARD = Path(__file__).resolve().parents[2] / "docs/standards/ZB-STD-001-identifiers.md"

IDENTIFIER_EXAMPLES = "zb-example identifiers"
JSON_EXAMPLES = "json-example"
FOR_READING = {"abnf"}
KNOWN_INFO_STRINGS = {IDENTIFIER_EXAMPLES, JSON_EXAMPLES, *FOR_READING}

# Each kind maps a written value to its canonical string, raising ValidationError if refused.
KINDS: dict[str, Callable[[str], str]] = {
    "member": lambda value: str(MemberId.parse(value)),
    "subsystem": lambda value: str(SubsystemId.parse(value)),
    "service": lambda value: str(ServiceId.parse(value)),
    "gateway": lambda value: str(GatewayId.parse(value)),
    "subsystem-path": lambda value: SubsystemId.parse_path(value).to_path(),
    "service-path": lambda value: ServiceId.parse_path(value).to_path(),
    "client-header": lambda value: str(parse_client_header(value)),
    "person": lambda value: str(PersonId.parse(value)),
    "national-code": validate_national_code,
    "legal-entity-id": validate_legal_entity_id,
    "foreign-national-id": validate_foreign_national_id,
    "postal-code": validate_postal_code,
    "mobile": validate_mobile,
    "iban": validate_iban,
}
# The kinds the brief of the standard requires to be illustrated both ways.
REQUIRED_KINDS = {
    "member",
    "subsystem",
    "service",
    "gateway",
    "person",
    "national-code",
    "legal-entity-id",
    "postal-code",
    "mobile",
    "iban",
}

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
LINE = re.compile(
    r"^(?P<verdict>valid|invalid) (?P<kind>\S+) (?P<rest>.+)$",
)


@dataclass(frozen=True)
class Block:
    info: str
    body: str
    line: int  # 1-based line of the opening fence


def fenced_blocks(markdown: str) -> list[Block]:
    """Every fenced code block (CommonMark backtick or tilde fences, indented up to 3)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^ {{0,3}}{fence[0]}{{{len(fence)},}}\s*$")
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            body.append(lines[end])
            end += 1
        assert end < len(lines), f"unterminated fence opened on line {index + 1}"
        blocks.append(Block(opening["info"].strip(), "\n".join(body), index + 1))
        index = end + 1
    return blocks


@dataclass(frozen=True)
class Example:
    verdict: str
    kind: str
    value: str
    expected: str  # canonical form for valid examples, message fragment for invalid ones
    where: str


def identifier_examples(block: Block) -> list[Example]:
    examples: list[Example] = []
    for offset, raw in enumerate(block.body.splitlines(), start=1):
        where = f"line {block.line + offset}"
        if not raw.strip() or raw.startswith("#"):
            continue
        match = LINE.match(raw)
        assert match is not None, f"{where}: not 'valid|invalid KIND VALUE ...': {raw!r}"
        verdict, kind, rest = match["verdict"], match["kind"], match["rest"]
        assert kind in KINDS, f"{where}: unknown kind {kind!r} (known: {', '.join(KINDS)})"
        if verdict == "valid":
            assert " !! " not in rest, f"{where}: a valid example has no '!!' message"
            value, _, canonical = rest.partition(" => ")
            expected = canonical or value
        else:
            assert " => " not in rest, f"{where}: an invalid example has no '=>' canonical form"
            value, separator, expected = rest.partition(" !! ")
            assert separator, f"{where}: an invalid example needs '!! MESSAGE'"
            assert expected, f"{where}: the message after '!!' is empty"
        examples.append(Example(verdict, kind, value, expected, where))
    assert examples, f"example block on line {block.line} is empty"
    return examples


def load() -> tuple[list[Example], list[tuple[str, Any]]]:
    blocks = fenced_blocks(STANDARD.read_text(encoding="utf-8"))
    identifiers: list[Example] = []
    json_items: list[tuple[str, Any]] = []
    for block in blocks:
        assert block.info in KNOWN_INFO_STRINGS, (
            f"fenced block on line {block.line} has info string {block.info!r}; "
            f"known: {sorted(KNOWN_INFO_STRINGS)}"
        )
        if block.info == IDENTIFIER_EXAMPLES:
            identifiers.extend(identifier_examples(block))
        elif block.info == JSON_EXAMPLES:
            items = json.loads(block.body)
            assert isinstance(items, list), f"json-example on line {block.line} is not an array"
            assert items, f"json-example on line {block.line} is empty"
            json_items.extend((f"json-example on line {block.line}", item) for item in items)
    return identifiers, json_items


EXAMPLES, JSON_ITEMS = load()


def test_the_standard_is_versioned_and_bilingual() -> None:
    text = STANDARD.read_text(encoding="utf-8")
    assert "| Version | 1.0 |" in text
    assert "| Date | 2026-11-28 |" in text
    assert "| Status |" in text
    assert "RFC 2119" in text
    # The Persian abstract comes before the first numbered section.
    assert text.index("## خلاصه") < text.index("## 1 Scope")


def test_every_required_kind_has_valid_and_invalid_examples() -> None:
    for verdict in ("valid", "invalid"):
        shown = {example.kind for example in EXAMPLES if example.verdict == verdict}
        assert shown >= REQUIRED_KINDS, f"{verdict} examples missing: {REQUIRED_KINDS - shown}"
    assert {"text", "id"} <= set().union(*(item.keys() for _, item in JSON_ITEMS))
    assert any("invalid" in item for _, item in JSON_ITEMS)


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[f"{e.verdict}-{e.kind}-{e.where}" for e in EXAMPLES]
)
def test_identifier_example(example: Example) -> None:
    check = KINDS[example.kind]
    if example.verdict == "valid":
        assert check(example.value) == example.expected
    else:
        with pytest.raises(ValidationError) as caught:
            check(example.value)
        assert example.expected in caught.value.detail


@pytest.mark.parametrize("item", [item for _, item in JSON_ITEMS], ids=[w for w, _ in JSON_ITEMS])
def test_json_example(item: Any) -> None:
    assert isinstance(item, dict)
    if set(item) == {"text", "id"}:
        identifier = identifier_from_dict(item["id"])
        assert str(identifier) == item["text"]
        assert identifier.to_dict() == item["id"]
    elif set(item) == {"invalid", "error"}:
        with pytest.raises(ValidationError) as caught:
            identifier_from_dict(item["invalid"])
        assert item["error"] in caught.value.detail
    else:
        pytest.fail(f"json-example item has keys {sorted(item)}; expected text+id or invalid+error")


# The checker itself must reject what it should; otherwise the tests above could not fail.


def test_checker_refuses_unknown_block_formats() -> None:
    block = fenced_blocks("```zb-example identifierz\nvalid member IR/GOV/10380284790\n```\n")[0]
    assert block.info not in KNOWN_INFO_STRINGS
    assert fenced_blocks("~~~text\nx\n~~~\n")[0].info == "text"  # found, so it would be refused


def test_checker_refuses_malformed_lines() -> None:
    for body in [
        "valid memberz IR/GOV/10380284790",
        "invalid member IR/XYZ/10380284790",
        "valid member IR/GOV/10380284790 !! nothing",
        "perhaps member IR/GOV/10380284790",
    ]:
        with pytest.raises(AssertionError):
            identifier_examples(Block(IDENTIFIER_EXAMPLES, body, 1))


def test_checker_detects_unterminated_fences() -> None:
    with pytest.raises(AssertionError, match="unterminated"):
        fenced_blocks("```json-example\n[]\n")


def test_checker_reads_canonical_forms_and_messages() -> None:
    valid, invalid = identifier_examples(
        Block(
            IDENTIFIER_EXAMPLES,
            "# comment\n\nvalid mobile 0912 123 4567 => 09121234567\n"
            "invalid mobile 0912 !! got 2 digits after 09",
            1,
        )
    )
    assert (valid.value, valid.expected) == ("0912 123 4567", "09121234567")
    assert (invalid.value, invalid.expected) == ("0912", "got 2 digits after 09")
