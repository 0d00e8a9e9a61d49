"""A registry schema's text forms, JSON and YAML, read into the JSON value they mean and written
back so that reading gives the same value again.

PyYAML does the parsing; the policy here keeps YAML to what JSON can say:

- scalars resolve as in YAML 1.2's core schema, not 1.1: ``yes``, ``no``, ``on``, ``off``,
  ``2025-03-21``, ``1:30`` and ``012`` stay strings (or a decimal integer), so a code list with
  the code ``NO`` or a date default does not silently change type;
- aliases are refused (a schema is short enough to write out, and an alias bomb expands into
  billions of nodes), and written YAML never uses them;
- duplicate keys, non-string keys and values JSON has no form for (``.inf``, dates, binary) are
  refused, in JSON text too (``NaN``, ``Infinity``), with the line and column where known.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Mapping
from typing import Any, Literal

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from zistboom.core.errors import ValidationError

SchemaFormat = Literal["json", "yaml"]

_INT: tuple[str, re.Pattern[str], str] = (
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?[0-9]+$"),
    "-+0123456789",
)
_FLOAT = (
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    "-+.0123456789",
)
_BOOL = ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF")
_NULL = ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_CORE_RESOLVERS = (_INT, _FLOAT, _BOOL, _NULL)


class _SchemaLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core scalars, no aliases and no duplicate keys."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stub
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed: write the value out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise ConstructorError(
                    None, None, "keys are strings (quote them if need be)", key_node.start_mark
                )
            if (key_node.tag, key_node.value) in seen:
                raise ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add((key_node.tag, key_node.value))
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        if not _INT[1].match(text):
            raise ConstructorError(
                None, None, f"{text!r} is not a decimal integer", node.start_mark
            )
        return int(text)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node)
        if not _FLOAT[1].match(text):
            raise ConstructorError(None, None, f"{text!r} is not a decimal number", node.start_mark)
        return float(text)


class _SchemaDumper(yaml.SafeDumper):
    """PyYAML's safe dumper that quotes a string whenever YAML 1.1 *or* 1.2 would read it as
    something else, and never writes aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_SchemaLoader.yaml_implicit_resolvers = {}  # only the core scalars below, none of YAML 1.1's
# Line breaks other than "\n" in a plain or single-quoted scalar are folded by the reader;
# in double quotes every one of them is written as an escape.
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


def _represent_text(dumper: yaml.SafeDumper, text: str) -> ScalarNode:
    if _LINE_BREAKS.search(text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


_SchemaDumper.add_representer(str, _represent_text)
for _tag, _pattern, _first in _CORE_RESOLVERS:
    _SchemaLoader.add_implicit_resolver(_tag, _pattern, list(_first))
    _SchemaDumper.add_implicit_resolver(_tag, _pattern, list(_first))
_SchemaLoader.add_constructor("tag:yaml.org,2002:int", _SchemaLoader.construct_yaml_int)
_SchemaLoader.add_constructor("tag:yaml.org,2002:float", _SchemaLoader.construct_yaml_float)


def load_schema_text(text: str, *, format: SchemaFormat) -> dict[str, Any]:
    """The JSON object a schema's text means; ValidationError (with ``line`` and ``column``
    when the parser knows them) when the text is not one."""
    try:
        document = _load_json(text) if format == "json" else _load_yaml(text)
        _check_json_value(document, "")
    except RecursionError as err:
        raise ValidationError("the schema nests too deeply to be read", field="") from err
    if not isinstance(document, dict):
        raise ValidationError("a registry schema is a JSON object at the top level", field="")
    return document


def dump_schema(document: Mapping[str, Any], *, format: SchemaFormat) -> str:
    """The text of ``document``: JSON indented by two (keys in their order), or block YAML with
    the Persian text as it is; :func:`load_schema_text` reads back the same value."""
    if format == "json":
        return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return yaml.dump(dict(document), Dumper=_SchemaDumper, allow_unicode=True, sort_keys=False)


def _load_json(text: str) -> object:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValidationError(
                    f"the schema has the key {key!r} twice in one object", field=""
                )
            result[key] = value
        return result

    def constant(name: str) -> object:
        raise ValidationError(f"{name} is not a JSON number: schemas hold finite numbers", field="")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as err:
        raise ValidationError(
            f"the schema is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}",
            field="",
            line=err.lineno,
            column=err.colno,
        ) from err


def _load_yaml(text: str) -> object:
    try:
        return yaml.load(text, Loader=_SchemaLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "cannot be read"
        if mark is None:
            raise ValidationError(f"the schema is not valid YAML: {problem}", field="") from err
        line, column = mark.line + 1, mark.column + 1
        raise ValidationError(
            f"the schema is not valid YAML: {problem} at line {line}, column {column}",
            field="",
            line=line,
            column=column,
        ) from err
    except yaml.YAMLError as err:
        raise ValidationError(f"the schema is not valid YAML: {err}", field="") from err


def _check_json_value(value: object, pointer: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):  # JSON and the YAML loader both refuse it already
                raise ValidationError(f"key {key!r} is not a string", field=pointer)
            _check_json_value(item, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{pointer}/{index}")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(
            f"{pointer or 'the schema'}: {value} is not a JSON number", field=pointer
        )
    elif not isinstance(value, str | int | float | bool) and value is not None:
        raise ValidationError(
            f"{pointer or 'the schema'}: a {type(value).__name__} has no JSON form (quote it to "
            "make it a string)",
            field=pointer,
        )
