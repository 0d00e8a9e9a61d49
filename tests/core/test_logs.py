"""Structured logs: every line is one JSON object."""

from __future__ import annotations

import logging

import orjson

from zistboom.core.logs import JsonFormatter


def _record(message: object) -> logging.LogRecord:
    return logging.LogRecord("zistboom.test", logging.INFO, __file__, 1, message, (), None)


def test_messages_and_field_mappings_become_json_lines() -> None:
    formatter = JsonFormatter()
    plain = orjson.loads(formatter.format(_record("gateway ready")))
    assert plain["message"] == "gateway ready"
    assert plain["level"] == "info"
    assert plain["logger"] == "zistboom.test"
    fields = orjson.loads(formatter.format(_record({"side": "client", "status": 200})))
    assert fields["side"] == "client"
    assert fields["status"] == 200
    assert "message" not in fields
