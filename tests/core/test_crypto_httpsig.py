"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530): the RFC's own examples,
round trips with both key types, request-bound responses, and every refusal."""

from __future__ import annotations

import base64
import re
import string
from collections.abc import Callable, Mapping

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from zistboom.core.crypto.httpsig import (
    RequestParts,
    ResponseParts,
    SignatureParams,
    SignedFields,
    VerifiedSignature,
    # Internals: the Signature-Input fast path and the general parser it must agree with.
    _InnerList,
    _parse_dictionary,
    _parse_signature_input,
    _StructureError,
    content_digest,
    sign_request,
    sign_response,
    verify_content_digest,
    verify_request,
    verify_response,
)
from zistboom.core.crypto.keys import PrivateKey, PublicKey
from zistboom.core.errors import CryptoError

# ---------------------------------------------------------------------------------------------
# RFC 9421 Appendix B: published test keys (B.1.3 public half, B.1.4 both halves) and messages.

RFC_ED25519_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_ED25519_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
RFC_ECC_P256_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----
"""
RFC_CREATED = 1618884473
RFC_REQUEST_BODY = b'{"hello": "world"}'
RFC_REQUEST = RequestParts(
    method="POST",
    target_uri="https://example.com/foo?param=Value&Pet=dog",
    headers={
        "host": "example.com",
        "date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYll"
        "u7BNNyealdVLvRwEmTHWXvJwew==:",
        "content-length": "18",
    },
)


def rfc_ed25519_private() -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(RFC_ED25519_PRIVATE_PEM, password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


def rfc_public(pem: bytes) -> PublicKey:
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    return key


# ---------------------------------------------------------------------------------------------
# The gateway exchange

EC_A = ec.generate_private_key(ec.SECP256R1())
EC_B = ec.generate_private_key(ec.SECP256R1())
ED_A = ed25519.Ed25519PrivateKey.generate()
ED_B = ed25519.Ed25519PrivateKey.generate()
NOW = 1_760_000_000
REQUEST_BODY = b'{"nationalId": "0012345678"}'
RESPONSE_BODY = b'{"name": "Zahra", "birthDate": "1370-01-01"}'
REQUEST_COMPONENTS = (
    '"@method"',
    '"@target-uri"',
    '"@authority"',
    '"content-digest"',
    '"content-type"',
    '"x-road-client"',
    '"x-road-id"',
    '"x-road-user-id"',
)
RESPONSE_COMPONENTS = (
    '"@status"',
    '"content-digest"',
    '"content-type"',
    '"signature";req;key="zb"',
    '"@method";req',
    '"@target-uri";req',
    '"x-road-id";req',
)


def gateway_request(**extra: str) -> RequestParts:
    headers = {
        "host": "gw-b.example:8443",
        "content-type": "application/json",
        "content-digest": content_digest(REQUEST_BODY),
        "x-road-client": "IR-DEMO/GOV/10380284790/sub-a",
        "x-road-id": "7f1c2a9e-5b0e-4f4b-9d7a-1f2e3d4c5b6a",
        "x-road-user-id": "IR0012345678",
    }
    headers.update(extra)
    return RequestParts(
        method="POST",
        target_uri="https://gw-b.example:8443/r1/IR-DEMO/GOV/10380284790/reg/getPerson?x=1",
        headers=headers,
    )


def gateway_response(**extra: str) -> ResponseParts:
    headers = {
        "content-type": "application/json",
        "content-digest": content_digest(RESPONSE_BODY, "sha-512"),
        "x-road-id": "7f1c2a9e-5b0e-4f4b-9d7a-1f2e3d4c5b6a",
    }
    headers.update(extra)
    return ResponseParts(status=200, headers=headers)


def with_headers(message: RequestParts, **changes: str | None) -> RequestParts:
    headers = dict(message.headers)
    for name, value in changes.items():
        field = name.replace("_", "-")
        if value is None:
            del headers[field]
        else:
            headers[field] = value
    return RequestParts(message.method, message.target_uri, headers)


def response_with_headers(message: ResponseParts, **changes: str | None) -> ResponseParts:
    headers = dict(message.headers)
    for name, value in changes.items():
        field = name.replace("_", "-")
        if value is None:
            del headers[field]
        else:
            headers[field] = value
    return ResponseParts(message.status, headers)


def attach(message: RequestParts, fields: SignedFields) -> RequestParts:
    return with_headers(message, signature_input=fields.signature_input, signature=fields.signature)


def attach_response(message: ResponseParts, fields: SignedFields) -> ResponseParts:
    return response_with_headers(
        message, signature_input=fields.signature_input, signature=fields.signature
    )


def key_for(key: PublicKey) -> Callable[[SignatureParams], PublicKey]:
    return lambda params: key


def signed_request(key: PrivateKey = EC_A, **options: object) -> RequestParts:
    request = gateway_request()
    fields = sign_request(
        request,
        components=REQUEST_COMPONENTS,
        key=key,
        key_id="IR-DEMO/GOV/10380284790/sign-1",
        created=NOW,
        **options,  # type: ignore[arg-type]
    )
    return attach(request, fields)


def verify_signed_request(
    request: RequestParts, key: PublicKey | None = None, **options: object
) -> object:
    settings_ = {"required": REQUEST_COMPONENTS, "now": NOW} | options
    return verify_request(
        request,
        resolve_key=key_for(key if key is not None else EC_A.public_key()),
        **settings_,  # type: ignore[arg-type]
    )


def raw_ecdsa_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(params=["ec-p256", "ed25519"])
def key_pair(request: pytest.FixtureRequest) -> tuple[PrivateKey, PrivateKey]:
    return (EC_A, EC_B) if request.param == "ec-p256" else (ED_A, ED_B)


# ---------------------------------------------------------------------------------------------
# RFC 9421 and RFC 9530 examples


def test_rfc9421_b26_ed25519_request_is_reproduced_exactly() -> None:
    key = rfc_ed25519_private()
    assert (
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == RFC_ED25519_PUBLIC_PEM
    )

    fields = sign_request(
        RFC_REQUEST,
        components=[
            '"date"',
            '"@method"',
            '"@path"',
            '"@authority"',
            '"content-type"',
            '"content-length"',
        ],
        key=key,
        key_id="test-key-ed25519",
        created=RFC_CREATED,
        label="sig-b26",
    )

    assert fields.signature_base == (
        b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        b'"@method": POST\n'
        b'"@path": /foo\n'
        b'"@authority": example.com\n'
        b'"content-type": application/json\n'
        b'"content-length": 18\n'
        b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        b'"content-length");created=1618884473;keyid="test-key-ed25519"'
    )
    assert fields.signature_input == (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )
    assert fields.signature == (
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp"
        "5WPpBKRCw==:"
    )
    verified = verify_request(
        attach(RFC_REQUEST, fields),
        resolve_key=key_for(rfc_public(RFC_ED25519_PUBLIC_PEM)),
        required=['"@method"', '"@path"', '"@authority"'],
        now=RFC_CREATED,
        label="sig-b26",
    )
    assert verified.signature_base == fields.signature_base
    assert verified.params.key_id == "test-key-ed25519"


RFC_B24_RESPONSE = ResponseParts(
    status=200,
    headers={
        "date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "content-type": "application/json",
        "content-digest": "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69w"
        "WdXymyU0rjJuahq4l5aGgfLQ==:",
        "content-length": "23",
        "signature-input": 'sig-b24=("@status" "content-type" "content-digest" "content-length")'
        ';created=1618884473;keyid="test-key-ecc-p256"',
        "signature": "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy"
        "5eCdlYUEkLIj+32oiasw==:",
    },
)


def test_rfc9421_b24_ecdsa_p256_signature_verifies() -> None:
    """B.2.4 signs the test response; ECDSA is randomised, so the RFC's value is verified."""
    verified = verify_response(
        RFC_B24_RESPONSE,
        request=RFC_REQUEST,
        resolve_key=key_for(rfc_public(RFC_ECC_P256_PUBLIC_PEM)),
        required=['"@status"', '"content-digest"'],
        now=RFC_CREATED,
        label="sig-b24",
    )
    assert verified.signature_base == (
        b'"@status": 200\n'
        b'"content-type": application/json\n'
        b'"content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5o'
        b"GX69wWdXymyU0rjJuahq4l5aGgfLQ==:\n"
        b'"content-length": 23\n'
        b'"@signature-params": ("@status" "content-type" "content-digest" "content-length")'
        b';created=1618884473;keyid="test-key-ecc-p256"'
    )
    assert len(verified.signature) == 64  # raw r || s, not DER
    verify_content_digest(RFC_B24_RESPONSE.headers["content-digest"], b'{"message": "good dog"}')

    other_status = ResponseParts(201, RFC_B24_RESPONSE.headers)
    with pytest.raises(CryptoError, match="does not verify"):
        verify_response(
            other_status,
            request=RFC_REQUEST,
            resolve_key=key_for(rfc_public(RFC_ECC_P256_PUBLIC_PEM)),
            required=[],
            now=RFC_CREATED,
            label="sig-b24",
        )


def test_rfc9421_section_2_4_request_bound_response_verifies() -> None:
    response = ResponseParts(
        status=503,
        headers={
            "date": "Tue, 20 Apr 2021 02:07:56 GMT",
            "content-type": "application/json",
            "content-length": "62",
            "content-digest": "sha-512=:0Y6iCBzGg5rZtoXS95Ijz03mslf6KAMCloESHObfwnHJDbkkWWQz6Phh"
            "U9kxsTbARtY2PTBOzq24uJFpHsMuAg==:",
            "signature-input": 'reqres=("@status" "content-digest" "content-type" '
            '"@authority";req "@method";req "@path";req "content-digest";req)'
            ';created=1618884479;keyid="test-key-ecc-p256"',
            "signature": "reqres=:dMT/A/76ehrdBTD/2Xx8QuKV6FoyzEP/I9hdzKN8LQJLNgzU4W767HK05rx1i8"
            "meNQQgQPgQp8wq2ive3tV5Ag==:",
        },
    )
    options: dict[str, object] = {
        "resolve_key": key_for(rfc_public(RFC_ECC_P256_PUBLIC_PEM)),
        "required": ['"@method";req', '"content-digest";req'],
        "now": 1618884479,
        "label": "reqres",
    }
    verified = verify_response(response, request=RFC_REQUEST, **options)  # type: ignore[arg-type]
    assert b'\n"@path";req: /foo\n' in verified.signature_base
    verify_content_digest(
        response.headers["content-digest"],
        b'{"busy": true, "message": "Your call is very important to us"}',
    )
    other_request = RequestParts("PUT", RFC_REQUEST.target_uri, RFC_REQUEST.headers)
    with pytest.raises(CryptoError, match="does not verify"):
        verify_response(response, request=other_request, **options)  # type: ignore[arg-type]


def test_rfc9530_content_digest_examples() -> None:
    assert content_digest(RFC_REQUEST_BODY) == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )
    assert content_digest(RFC_REQUEST_BODY, "sha-512") == (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmT"
        "HWXvJwew==:"
    )
    both = f"{content_digest(RFC_REQUEST_BODY)}, {content_digest(RFC_REQUEST_BODY, 'sha-512')}"
    verify_content_digest(both, RFC_REQUEST_BODY)


def test_derived_components_follow_rfc9421_section_2_2() -> None:
    request = RequestParts("POST", "https://www.example.com/path?param=value", {})
    fields = sign_request(
        request,
        components=[
            "@method",
            "@target-uri",
            "@authority",
            "@scheme",
            "@request-target",
            "@path",
            "@query",
        ],
        key=ED_A,
        key_id="k",
        created=NOW,
    )
    assert fields.signature_base.split(b"\n")[:-1] == [
        b'"@method": POST',
        b'"@target-uri": https://www.example.com/path?param=value',
        b'"@authority": www.example.com',
        b'"@scheme": https',
        b'"@request-target": /path?param=value',
        b'"@path": /path',
        b'"@query": ?param=value',
    ]


@pytest.mark.parametrize(
    ("target_uri", "component", "value"),
    [
        ("HTTPS://Example.COM:443/a", "@authority", "example.com"),
        ("https://example.com:8443/a", "@authority", "example.com:8443"),
        ("http://example.com:80/a", "@authority", "example.com"),
        ("http://example.com:443/a", "@authority", "example.com:443"),
        ("https://[2001:DB8::1]:8443/a", "@authority", "[2001:db8::1]:8443"),
        ("HTTPS://Example.COM/a", "@scheme", "https"),
        ("HTTPS://Example.COM/a", "@target-uri", "HTTPS://Example.COM/a"),
        ("https://example.com", "@path", "/"),
        ("https://example.com?x", "@path", "/"),
        ("https://example.com/a/../b%2fc?x=1", "@path", "/a/../b%2fc"),
        ("https://example.com/a", "@query", "?"),
        ("https://example.com/a?", "@query", "?"),
        ("https://example.com/a?queryString", "@query", "?queryString"),
        ("https://example.com/a", "@request-target", "/a"),
        ("https://example.com/a?", "@request-target", "/a?"),
    ],
)
def test_derived_component_values(target_uri: str, component: str, value: str) -> None:
    fields = sign_request(
        RequestParts("GET", target_uri, {}),
        components=[component],
        key=ED_A,
        key_id="k",
        created=NOW,
    )
    assert fields.signature_base.split(b"\n")[0] == f'"{component}": {value}'.encode()


def test_query_param_follows_rfc9421_section_2_2_8() -> None:
    request = RequestParts(
        "GET",
        "https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&qux=",
        {},
    )
    fields = sign_request(
        request,
        components=[
            '"@query-param";name="var"',
            '"@query-param";name="bar"',
            '"@query-param";name="fa%C3%A7ade%22%3A%20"',
            '"@query-param";name="qux"',
        ],
        key=ED_A,
        key_id="k",
        created=NOW,
    )
    assert fields.signature_base.split(b"\n")[:-1] == [
        b'"@query-param";name="var": this%20is%20a%20big%0Amultiline%20value',
        b'"@query-param";name="bar": with%20plus%20whitespace',
        b'"@query-param";name="fa%C3%A7ade%22%3A%20": something',
        b'"@query-param";name="qux": ',
    ]
    verify_request(
        attach(request, fields),
        resolve_key=key_for(ED_A.public_key()),
        required=['"@query-param";name="bar"'],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [("a=1&a=2", "more than once"), ("a=1&%61=2", "more than once"), ("b=1", "missing")],
)
def test_query_param_refuses_missing_and_repeated_names(query: str, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        sign_request(
            RequestParts("GET", f"https://example.com/?{query}", {}),
            components=['"@query-param";name="a"'],
            key=ED_A,
            key_id="k",
            created=NOW,
        )


# ---------------------------------------------------------------------------------------------
# Round trips


def test_request_round_trip(key_pair: tuple[PrivateKey, PrivateKey]) -> None:
    client_key, _ = key_pair
    request = gateway_request()
    fields = sign_request(
        request,
        components=REQUEST_COMPONENTS,
        key=client_key,
        key_id="IR-DEMO/GOV/10380284790/sign-1",
        created=NOW,
        expires=NOW + 60,
        nonce="bm9uY2U",
        tag="zistboom-r1",
    )
    assert fields.signature_input == (
        "zb=(" + " ".join(REQUEST_COMPONENTS) + f");created={NOW};expires={NOW + 60}"
        ';nonce="bm9uY2U";keyid="IR-DEMO/GOV/10380284790/sign-1";tag="zistboom-r1"'
    )
    assert fields.signature_base.endswith(
        b'"@signature-params": ' + fields.signature_input.removeprefix("zb=").encode()
    )
    seen: list[SignatureParams] = []

    def resolve(params: SignatureParams) -> PublicKey:
        seen.append(params)
        return client_key.public_key()

    verified = verify_request(
        attach(request, fields),
        resolve_key=resolve,
        required=REQUEST_COMPONENTS,
        now=NOW + 5,
        expected_tag="zistboom-r1",
    )
    assert seen == [verified.params]
    assert verified.params == SignatureParams(
        key_id="IR-DEMO/GOV/10380284790/sign-1",
        created=NOW,
        expires=NOW + 60,
        nonce="bm9uY2U",
        alg=None,
        tag="zistboom-r1",
        components=REQUEST_COMPONENTS,
    )
    assert verified.signature_base == fields.signature_base
    assert fields.signature == f"zb=:{b64(verified.signature)}:"


def test_ecdsa_signature_is_raw_r_s_and_verifies_independently() -> None:
    request = gateway_request()
    fields = sign_request(request, components=REQUEST_COMPONENTS, key=EC_A, key_id="k", created=NOW)
    raw = base64.b64decode(fields.signature.removeprefix("zb=:").removesuffix(":"))
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    EC_A.public_key().verify(der, fields.signature_base, ec.ECDSA(hashes.SHA256()))


def test_ed25519_signature_verifies_independently() -> None:
    fields = sign_request(
        gateway_request(), components=REQUEST_COMPONENTS, key=ED_A, key_id="k", created=NOW
    )
    raw = base64.b64decode(fields.signature.removeprefix("zb=:").removesuffix(":"))
    ED_A.public_key().verify(raw, fields.signature_base)


def test_a_base_built_by_hand_and_signed_with_cryptography_verifies() -> None:
    """An independent signer: the test writes the signature base itself per RFC 9421 §2.5."""
    request = RequestParts(
        "GET", "https://gw-b.example/r1/x?y=1", {"x-road-id": " id-1 ", "accept": "*/*"}
    )
    params = (
        f'("@method" "@path" "@query" "x-road-id");created={NOW};alg="ecdsa-p256-sha256";keyid="k"'
    )
    base = (
        '"@method": GET\n"@path": /r1/x\n"@query": ?y=1\n"x-road-id": id-1\n'
        f'"@signature-params": {params}'
    ).encode()
    signed = with_headers(
        request,
        signature_input=f"zb={params}",
        signature=f"zb=:{b64(raw_ecdsa_sign(EC_A, base))}:",
    )
    verified = verify_request(
        signed, resolve_key=key_for(EC_A.public_key()), required=["@method"], now=NOW
    )
    assert verified.signature_base == base
    assert verified.params.alg == "ecdsa-p256-sha256"


def test_response_round_trip_bound_to_the_request(
    key_pair: tuple[PrivateKey, PrivateKey],
) -> None:
    client_key, provider_key = key_pair
    request = signed_request(client_key)
    response = gateway_response()
    fields = sign_response(
        response,
        request=request,
        components=RESPONSE_COMPONENTS,
        key=provider_key,
        key_id="IR-DEMO/GOV/10380284790/sign-2",
        created=NOW + 1,
        tag="zistboom-r1",
    )
    request_signature = request.headers["signature"].removeprefix("zb=")
    assert f'"signature";req;key="zb": {request_signature}\n'.encode() in fields.signature_base
    assert b'"@method";req: POST\n' in fields.signature_base
    verified = verify_response(
        attach_response(response, fields),
        request=request,
        resolve_key=key_for(provider_key.public_key()),
        required=RESPONSE_COMPONENTS,
        now=NOW + 2,
        expected_tag="zistboom-r1",
    )
    assert verified.signature_base == fields.signature_base


def test_required_components_compare_by_meaning_not_spelling() -> None:
    request = signed_request()
    response = gateway_response()
    fields = sign_response(
        response,
        request=request,
        components=RESPONSE_COMPONENTS,
        key=EC_B,
        key_id="k",
        created=NOW,
    )
    verify_response(
        attach_response(response, fields),
        request=request,
        resolve_key=key_for(EC_B.public_key()),
        required=['"signature";key="zb";req', "@status", "content-digest"],
        now=NOW,
    )


def test_key_and_sf_parameters_reserialise_structured_fields() -> None:
    digest = content_digest(REQUEST_BODY)
    request = gateway_request(**{"content-digest": f"{digest},   md5=:AAAA:;x=?1"})
    fields = sign_request(
        request,
        components=['"content-digest";sf', '"content-digest";key="sha-256"'],
        key=ED_A,
        key_id="k",
        created=NOW,
    )
    assert fields.signature_base.split(b"\n")[:2] == [
        f'"content-digest";sf: {digest}, md5=:AAAA:;x'.encode(),
        f'"content-digest";key="sha-256": {digest.removeprefix("sha-256=")}'.encode(),
    ]
    verify_request(
        attach(request, fields),
        resolve_key=key_for(ED_A.public_key()),
        required=['"content-digest";sf'],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("field", "value", "serialized"),
    [
        (
            "cache-status",
            "ExampleCache; hit,   Other;fwd=uri-miss",
            "ExampleCache;hit, Other;fwd=uri-miss",
        ),
        ("client-cert", " :AAEC: ", ":AAEC:"),
        ("priority", 'x="a\\"b\\\\c";p, y=tok/1:2', 'x="a\\"b\\\\c";p, y=tok/1:2'),
        ("priority", "u=3,i, x=1.50, y=-0.0, z=(a  b);q=?0", "u=3, i, x=1.5, y=-0.0, z=(a b);q=?0"),
        (
            "accept-signature",
            'sig1=("@method" "@path");keyid="k"',
            'sig1=("@method" "@path");keyid="k"',
        ),
    ],
)
def test_sf_reserialises_lists_items_and_dictionaries(
    field: str, value: str, serialized: str
) -> None:
    fields = sign_request(
        RequestParts("GET", "https://example.com/", {field: value}),
        components=[f'"{field}";sf'],
        key=ED_A,
        key_id="k",
        created=NOW,
    )
    assert fields.signature_base.split(b"\n")[0] == f'"{field}";sf: {serialized}'.encode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cache-status", "a,"),
        ("client-cert", ":AAEC: x"),
        ("priority", "u=1234567890123456"),
        ("priority", "x=1.2345"),
        ("priority", 'x="\\q"'),
        ("priority", "x=?2"),
    ],
)
def test_sf_refuses_invalid_structured_fields(field: str, value: str) -> None:
    with pytest.raises(CryptoError, match="not a valid structured"):
        sign_request(
            RequestParts("GET", "https://example.com/", {field: value}),
            components=[f'"{field}";sf'],
            key=ED_A,
            key_id="k",
            created=NOW,
        )


# ---------------------------------------------------------------------------------------------
# Refusals on verification


def test_tampered_covered_header_is_refused() -> None:
    request = with_headers(signed_request(), x_road_user_id="IR0099999999")
    with pytest.raises(CryptoError, match="does not verify"):
        verify_signed_request(request)


def test_uncovered_header_may_change() -> None:
    verify_signed_request(with_headers(signed_request(), accept_language="fa"))


def test_tampered_target_is_refused() -> None:
    request = signed_request()
    moved = RequestParts(request.method, request.target_uri + "&x=2", request.headers)
    with pytest.raises(CryptoError, match="does not verify"):
        verify_signed_request(moved)


def test_tampered_body_is_caught_by_content_digest() -> None:
    request = signed_request()
    with pytest.raises(CryptoError, match="sha-256 Content-Digest does not match"):
        verify_content_digest(request.headers["content-digest"], REQUEST_BODY + b" ")
    # Updating the digest to the new body breaks the signature instead.
    forged = with_headers(request, content_digest=content_digest(REQUEST_BODY + b" "))
    with pytest.raises(CryptoError, match="does not verify"):
        verify_signed_request(forged)


def test_missing_required_component_is_named() -> None:
    request = gateway_request()
    fields = sign_request(
        request, components=REQUEST_COMPONENTS[:-1], key=EC_A, key_id="k", created=NOW
    )
    with pytest.raises(CryptoError, match='does not cover the required "x-road-user-id"'):
        verify_signed_request(attach(request, fields))


def test_missing_covered_header_is_named() -> None:
    request = with_headers(signed_request(), x_road_id=None)
    with pytest.raises(CryptoError, match="covered header field 'x-road-id' is missing"):
        verify_signed_request(request)


@pytest.mark.parametrize(
    ("now", "message"),
    [
        (NOW + 31, "created 31 s ago"),
        (NOW - 31, "31 s in the future"),
    ],
)
def test_created_outside_the_skew_is_refused(now: int, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        verify_signed_request(signed_request(), now=now)


def test_created_at_the_edge_of_the_skew_is_accepted() -> None:
    verify_signed_request(signed_request(), now=NOW + 30)
    verify_signed_request(signed_request(), now=NOW - 30)
    verify_signed_request(signed_request(), now=NOW + 100, max_skew=100)


def test_expired_signature_is_refused() -> None:
    request = signed_request(expires=NOW + 10)
    verify_signed_request(request, now=NOW + 10)
    with pytest.raises(CryptoError, match="expired 1 s ago"):
        verify_signed_request(request, now=NOW + 11)


def test_wrong_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="does not verify"):
        verify_signed_request(signed_request(), key=EC_B.public_key())


def test_key_of_the_other_type_is_refused() -> None:
    with pytest.raises(CryptoError, match="does not verify"):
        verify_signed_request(signed_request(EC_A), key=ED_A.public_key())


def test_resolve_key_errors_propagate() -> None:
    refusal = CryptoError("certificate of IR-DEMO/GOV/10380284790 is revoked")

    def resolve(params: SignatureParams) -> PublicKey:
        raise refusal

    with pytest.raises(CryptoError) as caught:
        verify_request(signed_request(), resolve_key=resolve, required=[], now=NOW)
    assert caught.value is refusal


def hand_signed(alg: str, key: PrivateKey) -> RequestParts:
    params = f'("@method");created={NOW};alg="{alg}";keyid="k"'
    base = f'"@method": POST\n"@signature-params": {params}'.encode()
    raw = (
        raw_ecdsa_sign(key, base) if isinstance(key, ec.EllipticCurvePrivateKey) else key.sign(base)
    )
    return with_headers(
        gateway_request(), signature_input=f"zb={params}", signature=f"zb=:{b64(raw)}:"
    )


def test_alg_matching_the_key_is_accepted() -> None:
    verify_signed_request(hand_signed("ed25519", ED_A), key=ED_A.public_key(), required=[])
    verify_signed_request(hand_signed("ecdsa-p256-sha256", EC_A), required=[])


def test_alg_mismatch_is_refused() -> None:
    with pytest.raises(CryptoError, match="names alg 'ed25519'"):
        verify_signed_request(hand_signed("ed25519", EC_A), required=[])
    with pytest.raises(CryptoError, match="names alg 'ecdsa-p256-sha256'"):
        verify_signed_request(
            hand_signed("ecdsa-p256-sha256", ED_A), key=ED_A.public_key(), required=[]
        )


def test_unsupported_alg_is_refused() -> None:
    with pytest.raises(CryptoError, match="'rsa-pss-sha512' is not supported"):
        verify_signed_request(hand_signed("rsa-pss-sha512", EC_A), required=[])


def test_expected_tag_is_enforced() -> None:
    request = signed_request(tag="zistboom-r1")
    verify_signed_request(request, expected_tag="zistboom-r1")
    with pytest.raises(CryptoError, match="expected 'zistboom-other'"):
        verify_signed_request(request, expected_tag="zistboom-other")
    with pytest.raises(CryptoError, match="has tag None"):
        verify_signed_request(signed_request(), expected_tag="zistboom-r1")


def test_wrong_label_is_refused() -> None:
    with pytest.raises(CryptoError, match="no signature labelled 'other'"):
        verify_signed_request(signed_request(), label="other")
    request = gateway_request()
    fields = sign_request(
        request, components=REQUEST_COMPONENTS, key=EC_A, key_id="k", created=NOW, label="sig1"
    )
    with pytest.raises(CryptoError, match="no signature labelled 'zb'"):
        verify_signed_request(attach(request, fields))


def test_the_chosen_label_is_picked_among_several() -> None:
    request = gateway_request()
    ours = sign_request(request, components=REQUEST_COMPONENTS, key=EC_A, key_id="a", created=NOW)
    theirs = sign_request(
        request, components=["@method"], key=ED_A, key_id="b", created=NOW, label="proxy"
    )
    both = with_headers(
        request,
        signature_input=f"{theirs.signature_input}, {ours.signature_input}",
        signature=f"{ours.signature}, {theirs.signature}",
    )
    assert verify_signed_request(both).params.key_id == "a"  # type: ignore[attr-defined]
    verify_request(
        both, resolve_key=key_for(ED_A.public_key()), required=[], now=NOW, label="proxy"
    )


def test_duplicate_labels_are_refused() -> None:
    request = signed_request()
    signature_input = request.headers["signature-input"]
    doubled_input = with_headers(request, signature_input=f"{signature_input}, {signature_input}")
    with pytest.raises(CryptoError, match="'zb' appears more than once"):
        verify_signed_request(doubled_input)
    doubled_signature = with_headers(
        request, signature=f"{request.headers['signature']}, {request.headers['signature']}"
    )
    with pytest.raises(CryptoError, match="'zb' appears more than once"):
        verify_signed_request(doubled_signature)


def test_unsigned_request_is_refused() -> None:
    with pytest.raises(CryptoError, match="has no Signature-Input field"):
        verify_signed_request(gateway_request())
    with pytest.raises(CryptoError, match="has no Signature field"):
        verify_signed_request(with_headers(signed_request(), signature=None))


VALID_INPUT = f'zb=("@method");created={NOW};keyid="k"'


@pytest.mark.parametrize(
    ("signature_input", "signature", "message"),
    [
        ('zb=("@method"', "zb=:AAAA:", "no closing"),
        ('zb=("@method");created=abc;keyid="k"', "zb=:AAAA:", "must be an integer"),
        ("zb=(@method);created=1", "zb=:AAAA:", "unexpected character"),
        ('zb="@method";created=1', "zb=:AAAA:", "not an inner list"),
        ('zb=("@method");created=1;keyid=k', "zb=:AAAA:", "keyid must be a string"),
        ('zb=("@method");keyid="k"', "zb=:AAAA:", "no created parameter"),
        (f'zb=("@method");created={NOW}', "zb=:AAAA:", "no keyid parameter"),
        (f'zb=("@method");created={NOW};keyid="k";foo=1', "zb=:AAAA:", "unknown signature"),
        (f'zb=("@method" "@method");created={NOW};keyid="k"', "zb=:AAAA:", "more than once"),
        (f'zb=("@Method");created={NOW};keyid="k"', "zb=:AAAA:", "unknown derived component"),
        (f'zb=("X-Road-Id");created={NOW};keyid="k"', "zb=:AAAA:", "lower-case field name"),
        (f'zb=("@method";req);created={NOW};keyid="k"', "zb=:AAAA:", "req only belongs"),
        (f'zb=("@status");created={NOW};keyid="k"', "zb=:AAAA:", "only be covered by a resp"),
        (f'zb=("date";bs);created={NOW};keyid="k"', "zb=:AAAA:", "bs parameter is not supp"),
        (f'zb=("date";tr);created={NOW};keyid="k"', "zb=:AAAA:", "trailer"),
        (f'zb=("@path";name="x");created={NOW};keyid="k"', "zb=:AAAA:", "takes no name"),
        (f'zb=("@query-param");created={NOW};keyid="k"', "zb=:AAAA:", "needs a name"),
        (f'zb=("@signature-params");created={NOW};keyid="k"', "zb=:AAAA:", "cannot be listed"),
        (f'zb=("@method" :AAAA:);created={NOW};keyid="k"', "zb=:AAAA:", "not a string"),
        (f'zb=("@method");created={NOW};keyid="ک"', "zb=:AAAA:", "must be ASCII"),
        (VALID_INPUT, "zb=:not base64!:", "not base64"),
        (VALID_INPUT, 'zb="abc"', "not a byte sequence"),
        (VALID_INPUT, "zb=(:AAAA:)", "not a byte sequence"),
        (VALID_INPUT, "zb=:A=AA:", "misplaced"),
        (VALID_INPUT, "zb=:YWJj:", "64 bytes, not 3"),
        (VALID_INPUT, "zb=:AAAA:,", "trailing ','"),
        (VALID_INPUT, "zb=:AAAA: x", "expected ','"),
    ],
)
def test_malformed_signature_fields_are_refused(
    signature_input: str, signature: str, message: str
) -> None:
    request = with_headers(gateway_request(), signature_input=signature_input, signature=signature)
    with pytest.raises(CryptoError, match=message):
        verify_signed_request(request, required=[])


SF_ALPHABET = '()";=:,?*-.01239abkzAZ@ \t\\/+%_'


@settings(max_examples=300, deadline=None)
@given(
    signature_input=st.one_of(
        st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
        st.text(alphabet=SF_ALPHABET, max_size=80),
        st.text(alphabet=SF_ALPHABET, max_size=60).map(lambda t: "zb=(" + t),
    ),
    signature=st.one_of(
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
        st.text(alphabet=SF_ALPHABET + "AQ", max_size=100),
    ),
)
def test_random_signature_fields_raise_only_crypto_errors(
    signature_input: str, signature: str
) -> None:
    request = with_headers(gateway_request(), signature_input=signature_input, signature=signature)
    with pytest.raises(CryptoError):
        verify_request(request, resolve_key=key_for(EC_A.public_key()), required=[], now=NOW)


SIGNED = signed_request()


SIGNED_INPUT = SIGNED.headers["signature-input"]
SIGNED_CREATED = f";created={NOW}"
SIGNED_KEYID = ';keyid="IR-DEMO/GOV/10380284790/sign-1"'
assert SIGNED_INPUT.endswith(SIGNED_CREATED + SIGNED_KEYID)
OTHER_MEMBER = 'other=("@method");created=1;keyid="x"'


def replaced(old: str, new: str) -> str:
    assert SIGNED_INPUT.count(old) == 1, old
    return SIGNED_INPUT.replace(old, new)


# Changes to the Signature-Input field that leave the signed member as RFC 8941 reads it: the
# verifier re-serialises the member into "@signature-params" (RFC 9421 §2.3), so these verify.
HARMLESS_SIGNATURE_INPUT_CHANGES = {
    "leading space": " " + SIGNED_INPUT,
    "leading tab": "\t" + SIGNED_INPUT,
    "trailing spaces and tab": SIGNED_INPUT + " \t ",
    "two spaces between components": replaced(
        '"@method" "@target-uri"', '"@method"  "@target-uri"'
    ),
    "space after the opening parenthesis": replaced('zb=("@method"', 'zb=( "@method"'),
    "space before the closing parenthesis": replaced('"x-road-user-id")', '"x-road-user-id" )'),
    "space after a semicolon": replaced(";keyid=", "; keyid="),
    "leading zeros in created": replaced(SIGNED_CREATED, ";created=000" + str(NOW)),
    "another member after it": SIGNED_INPUT + ", " + OTHER_MEMBER,
    "another member before it": OTHER_MEMBER + ",\t" + SIGNED_INPUT,
    "a bare boolean member after it": SIGNED_INPUT + ",b",
}

# Changes that alter what was signed, or make the field unreadable: each is refused, for the
# reason given.
DOES_NOT_VERIFY = "signature does not verify"
REFUSED_SIGNATURE_INPUT_CHANGES = {
    "created one second later": (
        replaced(SIGNED_CREATED, f";created={NOW + 1}"),
        DOES_NOT_VERIFY,
    ),
    "created as a decimal": (
        replaced(SIGNED_CREATED, f";created={NOW}.0"),
        "created must be an integer",
    ),
    "created as a string": (
        replaced(SIGNED_CREATED, f';created="{NOW}"'),
        "created must be an integer",
    ),
    "created with too many leading zeros": (
        replaced(SIGNED_CREATED, ";created=000000" + str(NOW)),
        "more than 15 digits",
    ),
    "another keyid": (replaced("sign-1", "sign-2"), DOES_NOT_VERIFY),
    "keyid as a token": (
        replaced(SIGNED_KEYID, SIGNED_KEYID.replace('"', "")),
        "keyid must be a string",
    ),
    "a component removed": (replaced(' "x-road-user-id"', ""), DOES_NOT_VERIFY),
    "a component added": (replaced('"@method"', '"@method" "@path"'), DOES_NOT_VERIFY),
    "two components swapped": (
        replaced('"@method" "@target-uri"', '"@target-uri" "@method"'),
        DOES_NOT_VERIFY,
    ),
    "a component parameter added": (
        replaced('"content-digest"', '"content-digest";sf'),
        DOES_NOT_VERIFY,
    ),
    "parameters swapped": (
        replaced(SIGNED_CREATED + SIGNED_KEYID, SIGNED_KEYID + SIGNED_CREATED),
        DOES_NOT_VERIFY,
    ),
    "a nonce added": (SIGNED_INPUT + ';nonce="n"', DOES_NOT_VERIFY),
    "expires added": (SIGNED_INPUT + f";expires={NOW + 60}", DOES_NOT_VERIFY),
    "the key's alg added": (SIGNED_INPUT + ';alg="ecdsa-p256-sha256"', DOES_NOT_VERIFY),
    "a tag added": (SIGNED_INPUT + ';tag="t"', DOES_NOT_VERIFY),
    "an unknown parameter": (SIGNED_INPUT + ";foo=1", "unknown signature parameter"),
    "another label": (replaced("zb=(", "zc=("), "no signature labelled 'zb'"),
    "the member twice": (SIGNED_INPUT + ", " + SIGNED_INPUT, "appears more than once"),
    "a tab between components": (
        replaced('"@method" "@target-uri"', '"@method"\t"@target-uri"'),
        "separated by spaces",
    ),
    "a space before a semicolon": (replaced(SIGNED_CREATED, " " + SIGNED_CREATED), "expected ','"),
    "a space before an equals sign": (replaced(";created=", ";created ="), "expected ','"),
    "an upper-case component name": (replaced('"@method"', '"@Method"'), "unknown derived"),
    "a trailing comma": (SIGNED_INPUT + ",", "trailing ','"),
    "the closing parenthesis dropped": (replaced('id")', 'id"'), "no closing '\\)'"),
}


@pytest.mark.parametrize(
    "mutated",
    [pytest.param(text, id=name) for name, text in HARMLESS_SIGNATURE_INPUT_CHANGES.items()],
)
def test_signature_input_changes_that_keep_the_signed_member_verify(mutated: str) -> None:
    assert mutated != SIGNED_INPUT
    verified = verify_signed_request(with_headers(SIGNED, signature_input=mutated), required=[])
    original = verify_signed_request(SIGNED, required=[])
    assert isinstance(verified, VerifiedSignature) and isinstance(original, VerifiedSignature)
    assert verified.signature_base == original.signature_base


@pytest.mark.parametrize(
    ("mutated", "reason"),
    [pytest.param(*case, id=name) for name, case in REFUSED_SIGNATURE_INPUT_CHANGES.items()],
)
def test_signature_input_changes_that_alter_the_signed_member_are_refused(
    mutated: str, reason: str
) -> None:
    with pytest.raises(CryptoError, match=reason):
        verify_signed_request(with_headers(SIGNED, signature_input=mutated), required=[])


def signed_member_shape(text: str) -> object:
    """The ``zb`` member of ``text`` read as an RFC 8941 dictionary, every value with its type
    (so that a token or decimal is not taken for the signed string or integer), or None when
    the field does not parse or has no such member."""
    shape = parsed_shape(text, _parse_dictionary)
    if not isinstance(shape, list):
        return None
    return dict(shape).get("zb")  # type: ignore[arg-type]


def squashed(text: str) -> str:
    """``text`` without spaces, tabs and leading zeros of numbers: a rough, parser-free view."""
    return re.sub(r"=0+(?=\d)", "=", re.sub(r"[ \t]", "", text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_signature_input_verifies_exactly_when_the_signed_member_is_unchanged(
    data: st.DataObject,
) -> None:
    position = data.draw(st.integers(0, len(SIGNED_INPUT)))
    insert = data.draw(st.text(alphabet=SF_ALPHABET, max_size=3))
    cut = data.draw(st.integers(0, 3))
    mutated = SIGNED_INPUT[:position] + insert + SIGNED_INPUT[position + cut :]
    request = with_headers(SIGNED, signature_input=mutated)
    if signed_member_shape(mutated) == signed_member_shape(SIGNED_INPUT):
        event("the signed member is unchanged: verifies")
        verify_signed_request(request, required=[])
        # Checked without the parser as well: only spaces, tabs, leading zeros and other
        # members separated by commas may have changed.
        assert squashed(SIGNED_INPUT) in squashed(mutated).split(","), mutated
    else:
        event("the signed member changed or does not parse: refused")
        with pytest.raises(CryptoError):
            verify_signed_request(request, required=[])


def parsed_shape(text: str, parse: Callable[[str], Mapping[str, object]]) -> object:
    """What a dictionary parser makes of ``text``, with every value's type, or its error."""

    def item(value: object) -> object:
        return (type(value).__name__, value)

    def params(values: Mapping[str, object]) -> object:
        return [(key, item(value)) for key, value in values.items()]

    def member(value: object) -> object:
        if isinstance(value, _InnerList):
            return ("inner", [(item(v), params(p)) for v, p in value.items], params(value.params))
        assert isinstance(value, tuple)
        return (item(value[0]), params(value[1]))

    try:
        return [(key, member(value)) for key, value in parse(text).items()]
    except _StructureError as exc:
        return ("error", str(exc))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_signature_input_fast_path_agrees_with_the_general_parser(
    data: st.DataObject,
) -> None:
    # Mutations of the shape every signer sends: what the cached prefix parse makes of a field
    # must be what the general parser makes of it, down to the error message.
    original = data.draw(
        st.sampled_from(
            [
                SIGNED.headers["signature-input"],
                signed_response_input(),
                SIGNED.headers["signature-input"] + ', other=("@method");created=1;keyid="x"',
            ]
        )
    )
    mutated = original
    for _ in range(data.draw(st.integers(0, 3))):
        position = data.draw(st.integers(0, len(mutated)))
        insert = data.draw(st.text(alphabet=SF_ALPHABET + ")", max_size=3))
        cut = data.draw(st.integers(0, 3))
        mutated = mutated[:position] + insert + mutated[position + cut :]
    fast = parsed_shape(mutated, lambda text: _parse_signature_input(text)[0])
    assert fast == parsed_shape(mutated, _parse_dictionary)


def signed_response_input() -> str:
    request = signed_request()
    fields = sign_response(
        gateway_response(),
        request=request,
        components=RESPONSE_COMPONENTS,
        key=EC_B,
        key_id="k",
        created=NOW,
    )
    return fields.signature_input


def test_the_signature_input_fast_path_takes_the_fields_signers_send() -> None:
    for text in (SIGNED.headers["signature-input"], signed_response_input()):
        members, start = _parse_signature_input(text)
        assert start is not None and start.components is not None
        assert members == _parse_dictionary(text)
    # Two members, or an inner list that is not first, take the general parser.
    for text in (
        SIGNED.headers["signature-input"] + ', b=("@method");created=1;keyid="x"',
        'b=:AAAA:, zb=("@method");created=1;keyid="x"',
    ):
        assert _parse_signature_input(text) == (_parse_dictionary(text), None)


def test_an_unsupported_component_fails_each_time_with_the_same_message() -> None:
    # The cached prefix holds no components then; the general path names the problem.
    request = with_headers(
        SIGNED, signature_input=f'zb=("@method" "X-Road-Id");created={NOW};keyid="k"'
    )
    for _ in range(2):
        with pytest.raises(CryptoError, match='component "X-Road-Id" is neither'):
            verify_signed_request(request, required=[])


def test_required_identifiers_are_checked_in_order_each_time() -> None:
    request = gateway_request()
    fields = sign_request(
        request, components=REQUEST_COMPONENTS[:-1], key=EC_A, key_id="k", created=NOW
    )
    signed = attach(request, fields)
    for _ in range(2):
        # The uncovered identifier comes before the malformed one, and is the one named.
        with pytest.raises(CryptoError, match='does not cover the required "x-road-user-id"'):
            verify_signed_request(signed, required=["x-road-user-id", '"@method";'])
        with pytest.raises(CryptoError, match="is malformed"):
            verify_signed_request(signed, required=['"@method";', "x-road-user-id"])
    with pytest.raises(CryptoError, match="is malformed"):
        sign_request(request, components=['"@method";'], key=EC_A, key_id="k", created=NOW)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.binary(max_size=60).map(lambda b: b.decode("latin-1")), st.text()))
def test_random_content_digest_raises_only_crypto_errors(value: str) -> None:
    with pytest.raises(CryptoError):
        verify_content_digest(value, REQUEST_BODY)


# ---------------------------------------------------------------------------------------------
# Response binding


def signed_exchange(
    client_key: PrivateKey = EC_A, provider_key: PrivateKey = EC_B
) -> tuple[RequestParts, ResponseParts]:
    request = signed_request(client_key)
    response = gateway_response()
    fields = sign_response(
        response,
        request=request,
        components=RESPONSE_COMPONENTS,
        key=provider_key,
        key_id="k",
        created=NOW,
    )
    return request, attach_response(response, fields)


def verify_exchange(request: RequestParts, response: ResponseParts) -> object:
    return verify_response(
        response,
        request=request,
        resolve_key=key_for(EC_B.public_key()),
        required=RESPONSE_COMPONENTS,
        now=NOW,
    )


def test_response_fails_when_the_request_signature_changes() -> None:
    request, response = signed_exchange()
    verify_exchange(request, response)
    resigned = attach(
        gateway_request(),
        sign_request(
            gateway_request(), components=REQUEST_COMPONENTS, key=EC_A, key_id="k", created=NOW
        ),
    )
    assert resigned.headers["signature"] != request.headers["signature"]
    with pytest.raises(CryptoError, match="does not verify"):
        verify_exchange(resigned, response)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: with_headers(r, x_road_id="another-id"),
        lambda r: RequestParts("PUT", r.target_uri, r.headers),
        lambda r: RequestParts(r.method, r.target_uri.replace("x=1", "x=2"), r.headers),
    ],
    ids=["x-road-id", "method", "target-uri"],
)
def test_response_fails_when_a_req_component_changes(
    change: Callable[[RequestParts], RequestParts],
) -> None:
    request, response = signed_exchange()
    with pytest.raises(CryptoError, match="does not verify"):
        verify_exchange(change(request), response)


def test_response_fails_when_the_request_lost_its_signature() -> None:
    request, response = signed_exchange()
    with pytest.raises(CryptoError, match="field 'signature' is missing from the request"):
        verify_exchange(with_headers(request, signature=None), response)


def test_response_with_tampered_status_or_body_is_refused() -> None:
    request, response = signed_exchange()
    with pytest.raises(CryptoError, match="does not verify"):
        verify_exchange(request, ResponseParts(500, response.headers))
    forged = response_with_headers(response, content_digest=content_digest(b"{}", "sha-512"))
    with pytest.raises(CryptoError, match="does not verify"):
        verify_exchange(request, forged)
    with pytest.raises(CryptoError, match="sha-512 Content-Digest does not match"):
        verify_content_digest(response.headers["content-digest"], b"{}")


def test_request_signature_does_not_verify_as_a_response() -> None:
    request = signed_request()
    as_response = ResponseParts(200, request.headers)
    with pytest.raises(CryptoError, match="describes the request"):
        verify_response(
            as_response,
            request=request,
            resolve_key=key_for(EC_A.public_key()),
            required=[],
            now=NOW,
        )


# ---------------------------------------------------------------------------------------------
# Refusals on signing


@pytest.mark.parametrize(
    ("components", "message"),
    [
        (['"@method";req'], "req only belongs in a response signature"),
        (['"@status"'], "only be covered by a response signature"),
        (['"content-type";bs'], "bs parameter is not supported"),
        (['"x-unknown"'], "'x-unknown' is missing from the request"),
        (['"x-road-id";sf'], "structured type of field 'x-road-id' is not known"),
        (['"x-road-id";key="a"'], "not a valid structured dictionary"),
        (['"content-digest";key="sha-512"'], "has no member 'sha-512'"),
        (['"@method"', "@method"], "covered more than once"),
        (['"@unknown"'], "unknown derived component"),
        (['"Content-Type"'], "lower-case field name"),
        (["content-type;req"], "must start with a quoted name"),
        (['"@method" "@path"'], "malformed"),
        (['"@method";req=?0'], "unsupported parameter 'req'"),
    ],
)
def test_unsupported_components_are_refused_when_signing(
    components: list[str], message: str
) -> None:
    with pytest.raises(CryptoError, match=message):
        sign_request(gateway_request(), components=components, key=EC_A, key_id="k", created=NOW)


@pytest.mark.parametrize(
    "value",
    ["a\r\nx-evil: 1", "line\nbreak", "nul\x00", "persian سلام", "del\x7f"],
)
def test_header_values_that_could_forge_base_lines_are_refused(value: str) -> None:
    with pytest.raises(CryptoError, match="cannot be signed"):
        sign_request(
            with_headers(gateway_request(), x_road_id=value),
            components=['"x-road-id"'],
            key=EC_A,
            key_id="k",
            created=NOW,
        )


def test_tabs_and_surrounding_whitespace() -> None:
    request = with_headers(gateway_request(), x_road_id="\t a\tb  ")
    fields = sign_request(request, components=['"x-road-id"'], key=EC_A, key_id="k", created=NOW)
    assert fields.signature_base.startswith(b'"x-road-id": a\tb\n')


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label": "Zb"}, "not a structured-field key"),
        ({"label": ""}, "not a structured-field key"),
        ({"key_id": "line\nbreak"}, "keyid may hold only"),
        ({"nonce": "ک"}, "nonce may hold only"),
        ({"expires": NOW - 1}, "expire before it is created"),
        ({"created": 1.5}, "created must be an integer"),
        ({"expires": True}, "expires must be an integer"),
    ],
)
def test_bad_signing_options_are_refused(options: dict[str, object], message: str) -> None:
    settings_: dict[str, object] = {"key_id": "k", "created": NOW} | options
    with pytest.raises(CryptoError, match=message):
        sign_request(
            gateway_request(),
            components=REQUEST_COMPONENTS,
            key=EC_A,
            **settings_,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("target_uri", "message"),
    [
        ("/relative/path", "not absolute"),
        ("https://example.com/a#frag", "fragment"),
        ("https://user@example.com/a", "user information"),
        ("https://example.com:port/a", "malformed host or port"),
        ("https://example.com/سلام", "must be ASCII"),
    ],
)
def test_bad_target_uris_are_refused(target_uri: str, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        sign_request(
            RequestParts("GET", target_uri, {}),
            components=["@path"],
            key=EC_A,
            key_id="k",
            created=NOW,
        )


# ---------------------------------------------------------------------------------------------
# Content-Digest


def test_content_digest_checks_every_known_algorithm() -> None:
    good_256 = content_digest(REQUEST_BODY)
    bad_512 = content_digest(b"other", "sha-512")
    with pytest.raises(CryptoError, match="sha-512 Content-Digest does not match"):
        verify_content_digest(f"{good_256}, {bad_512}", REQUEST_BODY)
    verify_content_digest(f"md5=:AAAA:, unixsum=5, {good_256}", REQUEST_BODY)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("md5=:AAAA:", "no digest algorithm we accept"),
        ("", "no digest algorithm we accept"),
        ("sha-256=abc", "not a byte sequence"),
        ("sha-256", "not a byte sequence"),
        ("sha-256=:AAAA:, sha-256=:AAAA:", "more than once"),
        ("sha-256=:AAAA", "not a valid structured dictionary"),
    ],
)
def test_bad_content_digest_is_refused(value: str, message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        verify_content_digest(value, REQUEST_BODY)


def test_unknown_digest_algorithm_is_refused_when_computing() -> None:
    with pytest.raises(CryptoError, match="sha-1"):
        content_digest(REQUEST_BODY, "sha-1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Properties

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


@settings(max_examples=60, deadline=None)
@given(
    values=st.dictionaries(
        keys=st.sampled_from(["x-road-client", "x-road-id", "x-road-user-id", "x-custom"]),
        values=st.text(alphabet=PRINTABLE, max_size=40),
        min_size=1,
    ),
    query=st.text(alphabet=string.ascii_letters + string.digits + "=&%+-._~", max_size=20),
    ed=st.booleans(),
)
def test_random_header_values_round_trip(values: Mapping[str, str], query: str, ed: bool) -> None:
    key = ED_A if ed else EC_A
    request = RequestParts("POST", f"https://gw-b.example/r1/svc?{query}", dict(values))
    components = ["@method", "@target-uri", "@query", *sorted(values)]
    fields = sign_request(request, components=components, key=key, key_id="k", created=NOW)
    verified = verify_request(
        attach(request, fields),
        resolve_key=key_for(key.public_key()),
        required=components,
        now=NOW,
    )
    assert verified.signature_base == fields.signature_base
    for name, value in values.items():
        assert f'"{name}": {value.strip(" ")}\n'.encode() in fields.signature_base


# ---------------------------------------------------------------------------------------------
# Repeated parameter keys, sf and name (ZB-STD-005 §9.1)


def _rewritten_input(fields: SignedFields, old: str, new: str) -> RequestParts:
    assert old in fields.signature_input
    return with_headers(
        gateway_request(),
        signature_input=fields.signature_input.replace(old, new),
        signature=fields.signature,
    )


def test_a_repeated_signature_parameter_is_refused() -> None:
    # RFC 8941 keeps the last keyid: another reader would take the first ("someone-else").
    fields = sign_request(
        gateway_request(), components=REQUEST_COMPONENTS, key=EC_A, key_id="k", created=NOW
    )
    smuggled = _rewritten_input(fields, ';keyid="k"', ';keyid="someone-else";keyid="k"')
    with pytest.raises(CryptoError, match="parameter 'keyid' repeats"):
        verify_signed_request(smuggled)


def test_a_repeated_component_parameter_is_refused() -> None:
    components = [*REQUEST_COMPONENTS, '"content-digest";key="sha-256"']
    fields = sign_request(
        gateway_request(), components=components, key=EC_A, key_id="k", created=NOW
    )
    smuggled = _rewritten_input(
        fields, '"content-digest";key="sha-256"', '"content-digest";key="sha-512";key="sha-256"'
    )
    with pytest.raises(CryptoError, match="parameter 'key' repeats"):
        verify_signed_request(smuggled, required=components)


def test_a_repeated_parameter_of_a_required_component_is_refused() -> None:
    with pytest.raises(CryptoError, match="repeats"):
        sign_request(
            gateway_request(),
            components=['"content-digest";key="sha-256";key="sha-256"'],
            key=EC_A,
            key_id="k",
            created=NOW,
        )


@pytest.mark.parametrize(
    ("component", "message"),
    [
        ('"content-type";sf', "structured type of field 'content-type' is not known"),
        ('"content-digest";sf=?0', "unsupported parameter 'sf'"),
        ('"@method";sf', "takes no key or sf"),
        ('"content-digest";sf;key="sha-256"', "both key and sf"),
        ('"x-road-id";name="a"', "takes no name"),
        ('"@query";name="a"', "takes no name"),
    ],
)
def test_sf_and_name_are_taken_only_where_documented(component: str, message: str) -> None:
    inputs = f'zb=("@method" {component});created={NOW};keyid="k"'
    request = with_headers(gateway_request(), signature_input=inputs, signature="zb=:AAAA:")
    with pytest.raises(CryptoError, match=message):
        verify_signed_request(request, required=['"@method"'])
