"""ZB-STD-004 (exchange protocol) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked: the request and the response of
Annex A are parsed from their wire text and verified with ``httpsig`` exactly as the gateways
verify them (signer certificate from ``zb-signer-certificate``, chained to the example CA and
naming the expected member, at the signature's ``created``); the response is verified bound to
that request; the request hash is recomputed with ``exchange.request_hash``; the error-type list
and table match the error classes of ``zistboom.core.exchange``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509 as cx509

from standard_examples import fenced_examples
from zistboom.core import exchange
from zistboom.core.crypto import httpsig, x509
from zistboom.core.crypto.keys import PublicKey
from zistboom.core.errors import CryptoError
from zistboom.gateway.message import (
    REQUEST_BASE_COMPONENTS,
    REQUEST_OPTIONAL_HEADERS,
    RESPONSE_COMPONENTS,
)

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-004-exchange-protocol.md"
KNOWN_EXAMPLES = {
    "request",
    "response",
    "request-hash",
    "request-signature-base",
    "response-signature-base",
    "ca-certificate",
    "client-certificate",
    "provider-certificate",
    "error-types",
}
CLIENT_MEMBER = "IR-DEMO/GOV/10380284790"
PROVIDER_MEMBER = "IR-DEMO/GOV/12147922321"


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example_blocks() -> list[tuple[str, str]]:
    """(name, body) of every fenced block whose info string starts with ``zb-example``."""
    return fenced_examples(standard_text())


def example(name: str) -> str:
    """The block's text without the line feed that ends its last line."""
    bodies = [body for block_name, body in example_blocks() if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    assert bodies[0].endswith("\n")
    return bodies[0][:-1]


def section(heading: str) -> str:
    text = standard_text()
    start = text.index(f"\n{heading}")
    following = re.search(r"\n#{2,3} ", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


@dataclass(frozen=True)
class WireMessage:
    """An HTTP/1.1 message as the standard prints it: start line, header lines, body."""

    start_line: str
    fields: list[tuple[str, str]]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names, several lines combined with ', ' (as the gateways combine them)."""
        combined: dict[str, str] = {}
        for name, value in self.fields:
            key = name.lower()
            combined[key] = f"{combined[key]}, {value}" if key in combined else value
        return combined


def parse_wire(text: str) -> WireMessage:
    head, separator, body = text.partition("\n\n")
    assert separator, "a message needs an empty line between its header and its body"
    start_line, *lines = head.split("\n")
    fields = []
    for line in lines:
        name, colon, value = line.partition(":")
        assert colon and name == name.strip() and name, f"not a header line: {line!r}"
        fields.append((name, value.strip(" \t")))
    message = WireMessage(start_line, fields, body.encode("utf-8"))
    assert int(message.headers["content-length"]) == len(message.body)
    return message


def request_parts(message: WireMessage) -> httpsig.RequestParts:
    method, target, version = message.start_line.split(" ")
    assert version == "HTTP/1.1"
    headers = message.headers
    return httpsig.RequestParts(method, f"https://{headers['host']}{target}", headers)


def ca_certificate() -> cx509.Certificate:
    return x509.load_certificate(example("ca-certificate"))


def signer_resolver(
    headers: dict[str, str], member: str, *, checked: list[str] | None = None
) -> Callable[[httpsig.SignatureParams], PublicKey]:
    """The gateways' key resolution: the certificate in ``zb-signer-certificate`` must be the
    one ``keyid`` names, chain to the instance CA and name ``member``, at ``created``."""

    def resolve(params: httpsig.SignatureParams) -> PublicKey:
        der = base64.b64decode(headers[exchange.SIGNER_CERTIFICATE], validate=True)
        certificate = x509.load_certificate(der)
        if x509.certificate_fingerprint(certificate) != params.key_id:
            raise CryptoError("keyid is not the fingerprint of the carried certificate")
        x509.verify_certificate(
            certificate,
            ca_certificate(),
            at=datetime.fromtimestamp(params.created, UTC),
            kind="sign",
            identity=member,
        )
        if checked is not None:
            checked.append(params.key_id)
        return x509.certificate_public_key(certificate)

    return resolve


def request_components(headers: dict[str, str]) -> list[str]:
    """What the consumer's gateway signs for a request with these headers (section 5.4)."""
    optional = [f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in headers]
    return list(REQUEST_BASE_COMPONENTS) + optional


def created_of(headers: dict[str, str]) -> int:
    found = re.search(r";created=(\d+)", headers["signature-input"])
    assert found is not None
    return int(found.group(1))


def verify_example_request(message: WireMessage) -> httpsig.VerifiedSignature:
    headers = message.headers
    httpsig.verify_content_digest(headers[exchange.CONTENT_DIGEST], message.body)
    return httpsig.verify_request(
        request_parts(message),
        resolve_key=signer_resolver(headers, CLIENT_MEMBER),
        required=request_components(headers),
        now=created_of(headers),
    )


def verify_example_response(
    response: WireMessage, request: WireMessage
) -> httpsig.VerifiedSignature:
    headers = response.headers
    status = int(response.start_line.split(" ")[1])
    httpsig.verify_content_digest(headers[exchange.CONTENT_DIGEST], response.body)
    return httpsig.verify_response(
        httpsig.ResponseParts(status, headers),
        request=request_parts(request),
        resolve_key=signer_resolver(headers, PROVIDER_MEMBER),
        required=RESPONSE_COMPONENTS,
        now=created_of(headers),
    )


def with_field(message: WireMessage, name: str, value: str) -> WireMessage:
    fields = [(n, value if n.lower() == name else v) for n, v in message.fields]
    assert fields != message.fields
    return WireMessage(message.start_line, fields, message.body)


# --------------------------------------------------------------------------------------------


def test_every_example_block_is_known_and_present() -> None:
    names = [name for name, _ in example_blocks()]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES)


def test_header_persian_abstract_and_requirement_words() -> None:
    text = standard_text()
    assert "| Version | 1.3 |" in text
    assert "| Date | 2026-12-01 |" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1 Scope")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 4000].replace(" ", ""))
    conventions = section("### 2.1 Conventions")
    assert "RFC 2119" in conventions and "RFC 8174" in conventions
    for word in ("MUST", "MUST NOT", "SHOULD", "MAY", "OPTIONAL"):
        assert word in conventions


def test_example_certificates_follow_the_pki_profile() -> None:
    ca = ca_certificate()
    assert x509.certificate_kind(ca) == "ca"
    for name, member in (
        ("client-certificate", CLIENT_MEMBER),
        ("provider-certificate", PROVIDER_MEMBER),
    ):
        certificate = x509.load_certificate(example(name))
        x509.verify_certificate(
            certificate, ca, at=certificate.not_valid_before_utc, kind="sign", identity=member
        )
        fingerprint = x509.certificate_fingerprint(certificate)
        assert f"`{fingerprint}`" in section("### A.1 Certificates")


def test_the_request_verifies_as_the_provider_gateway_verifies_it() -> None:
    message = parse_wire(example("request"))
    headers = message.headers
    verified = verify_example_request(message)

    # Exactly the components of section 5.4, in order, and the parameters of section 5.1.
    assert list(verified.params.components) == request_components(headers)
    assert verified.params.nonce == headers[exchange.X_ROAD_ID]
    assert verified.params.alg is None and verified.params.expires is None
    certificate = x509.load_certificate(
        base64.b64decode(headers[exchange.SIGNER_CERTIFICATE], validate=True)
    )
    assert verified.params.key_id == x509.certificate_fingerprint(certificate)
    assert certificate == x509.load_certificate(example("client-certificate"))
    assert headers[exchange.X_ROAD_CLIENT].startswith(CLIENT_MEMBER + "/")
    assert headers[exchange.CONTENT_DIGEST] == httpsig.content_digest(message.body)
    assert verified.signature_base == example("request-signature-base").encode("ascii")


def test_a_changed_request_does_not_verify() -> None:
    message = parse_wire(example("request"))
    changed_body = WireMessage(message.start_line, message.fields, message.body + b" ")
    with pytest.raises(CryptoError, match="does not match"):
        verify_example_request(changed_body)
    with pytest.raises(CryptoError, match="does not verify"):
        verify_example_request(with_field(message, "x-road-userid", "IR1234567891"))
    with pytest.raises(CryptoError, match="ago"):
        httpsig.verify_request(
            request_parts(message),
            resolve_key=signer_resolver(message.headers, CLIENT_MEMBER),
            required=request_components(message.headers),
            now=created_of(message.headers) + 31,
        )
    with pytest.raises(CryptoError, match="issued to"):
        httpsig.verify_request(
            request_parts(message),
            resolve_key=signer_resolver(message.headers, PROVIDER_MEMBER),
            required=request_components(message.headers),
            now=created_of(message.headers),
        )


def test_the_response_verifies_bound_to_the_request() -> None:
    request = parse_wire(example("request"))
    response = parse_wire(example("response"))
    verified = verify_example_response(response, request)

    assert list(verified.params.components) == list(RESPONSE_COMPONENTS)
    assert verified.params.nonce is None
    assert verified.signature_base == example("response-signature-base").encode("ascii")
    headers = response.headers
    assert response.start_line == "HTTP/1.1 200 OK"
    assert exchange.X_ROAD_ERROR not in headers
    assert headers[exchange.X_ROAD_ID] == request.headers[exchange.X_ROAD_ID]
    assert headers[exchange.X_ROAD_CLIENT] == request.headers[exchange.X_ROAD_CLIENT]
    service = headers[exchange.X_ROAD_SERVICE]
    assert service.startswith(PROVIDER_MEMBER + "/")
    assert request.start_line.split(" ")[1].startswith(f"/r1/{service}/")
    assert x509.load_certificate(
        base64.b64decode(headers[exchange.SIGNER_CERTIFICATE], validate=True)
    ) == x509.load_certificate(example("provider-certificate"))


def test_the_response_does_not_verify_for_another_request_or_when_changed() -> None:
    request = parse_wire(example("request"))
    response = parse_wire(example("response"))
    signature = request.headers["signature"]
    value = signature.split(":")[1]
    flipped = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
    other_request = with_field(request, "signature", signature.replace(value, flipped))
    with pytest.raises(CryptoError, match="does not verify"):
        verify_example_response(response, other_request)
    changed = with_field(response, "x-road-service", PROVIDER_MEMBER + "/population-registry/x")
    with pytest.raises(CryptoError, match="does not verify"):
        verify_example_response(changed, request)


def test_the_request_hash_is_recomputed_from_the_verified_request() -> None:
    request = parse_wire(example("request"))
    response = parse_wire(example("response"))
    verified = verify_example_request(request)
    recomputed = exchange.request_hash(verified.signature_base, request.body)
    assert recomputed == example("request-hash")
    assert recomputed == response.headers[exchange.X_ROAD_REQUEST_HASH]
    assert len(base64.b64decode(recomputed, validate=True)) == 64
    # The body is part of the hash: the same signature base with another body differs.
    assert exchange.request_hash(verified.signature_base, request.body + b" ") != recomputed


def exchange_error_classes() -> set[tuple[str, str, int]]:
    return {
        (name, value.xroad_type, value.status)
        for name, value in vars(exchange).items()
        if isinstance(value, type)
        and issubclass(value, exchange.ExchangeError)
        and value is not exchange.ExchangeError
        and value.__module__ == exchange.__name__
    }


def test_the_error_type_list_is_the_exchange_module() -> None:
    listed = json.loads(example("error-types"))
    documented = {(row["class"], row["type"], row["status"]) for row in listed}
    assert len(documented) == len(listed), "an error class is listed twice"
    assert documented == exchange_error_classes()


def test_the_error_type_table_is_the_exchange_module() -> None:
    rows = re.findall(
        r"^\| `(\w+)` \| `([\w.]+)` \| (\d{3}) \|", section("### 3.7 Error types"), re.MULTILINE
    )
    assert {(name, kind, int(status)) for name, kind, status in rows} == exchange_error_classes()
    assert len(rows) == len(exchange_error_classes())


def test_the_header_lists_are_those_of_the_exchange_module() -> None:
    headers_section = section("### 3.3 Request headers").lower()
    for name in exchange.FILTERED_HEADERS | exchange.GATEWAY_HEADERS:
        assert f"`{name}`" in headers_section, name
    request_section = section("### 5.4 The request signature")
    for component in REQUEST_BASE_COMPONENTS:
        assert f"`{component}`" in request_section, component
    for name in REQUEST_OPTIONAL_HEADERS:
        assert f'`"{name}"`' in request_section, name
    response_section = section("### 5.5 The response signature")
    for component in (*RESPONSE_COMPONENTS, '"x-road-error"'):
        assert f"`{component}`" in response_section, component
