"""The exchange contract: X-Road-Request-Hash as ZB-STD-004 defines it."""

from __future__ import annotations

import base64
import hashlib

from zistboom.core import exchange


def test_request_hash_with_and_without_a_body() -> None:
    base = b'"@method": GET\n"@signature-params": ("@method");created=1;keyid="k"'
    body = b'{"a": 1}'
    expected = hashlib.sha512(hashlib.sha512(base).digest() + hashlib.sha512(body).digest())
    assert exchange.request_hash(base, body) == base64.b64encode(expected.digest()).decode()
    assert (
        exchange.request_hash(base, b"") == base64.b64encode(hashlib.sha512(base).digest()).decode()
    )
    assert exchange.request_hash(base, body) != exchange.request_hash(base, b'{"a": 2}')


def test_every_error_type_has_its_family_and_status() -> None:
    errors = [
        value
        for value in vars(exchange).values()
        if isinstance(value, type) and issubclass(value, exchange.ExchangeError)
    ]
    assert len(errors) > 20
    for error in errors:
        family = error.xroad_type.split(".")[0]
        assert family in ("Client", "Server"), error
        assert (error.status < 500) if family == "Client" else True, error
        body = error("what went wrong").body("id-1")
        assert b'"type"' in body and b'"message"' in body and b'"detail":"id-1"' in body
