"""The offline QR (documents/qr.py): a VC-JWT's record round-trips through ``ZB1:`` text and a
printed, rotated, downscaled image; a changed byte breaks the signature; what is not the profile
is refused; its timestamp token dates its own signature."""

from __future__ import annotations

import hashlib
import io
import zlib
from datetime import timedelta
from typing import Any

import base45  # type: ignore[import-untyped]
import cbor2
import pytest
import segno
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from document_formats import FULL_SUBJECT, ISSUER, PERSIAN_SUBJECT, T0, Pki, Signer, claims
from zistboom.core.crypto import cose
from zistboom.core.crypto.keys import generate_private_key
from zistboom.core.crypto.x509 import certificate_der
from zistboom.core.errors import DocumentError, ValidationError
from zistboom.documents import vc
from zistboom.documents.qr import (
    QrRecord,
    decode_qr,
    qr_png,
    qr_svg,
    read_qr_image,
    sign_qr,
    verify_qr_signature,
)
from zistboom.documents.timestamps import imprint_of_signature, trusted_time

STAMPED_AT = T0 + timedelta(seconds=3)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def signer(pki: Pki) -> Signer:
    return pki.signer()


@pytest.fixture(scope="module")
def record(signer: Signer) -> QrRecord:
    token = vc.sign_credential(claims(signer), signer.key, signer.chain)
    return QrRecord.from_credential(vc.parse_credential(token))


def _qr(pki: Pki, signer: Signer, record: QrRecord) -> str:
    signed = sign_qr(record, signer.key, signer.cert)
    return signed.with_timestamp(pki.timestamp(signed.signature, STAMPED_AT, cert_req=False))


@pytest.fixture(scope="module")
def text(pki: Pki, signer: Signer, record: QrRecord) -> str:
    return _qr(pki, signer, record)


def _message(text: str) -> cose.CoseSign1:
    return cose.decode_sign1(zlib.decompress(base45.b45decode(text[4:])))


def _text(message: cose.CoseSign1) -> str:
    return "ZB1:" + base45.b45encode(zlib.compress(message.encode())).decode()


def test_a_record_round_trips_and_verifies(
    pki: Pki, signer: Signer, record: QrRecord, text: str
) -> None:
    assert text.startswith("ZB1:")
    payload = decode_qr(text)
    verify_qr_signature(payload)
    assert payload.record == record
    assert payload.record.issuer_member == ISSUER and payload.record.subject == PERSIAN_SUBJECT
    assert payload.record.valid_until == T0 + timedelta(days=3650)
    assert payload.certificate == signer.cert
    assert payload.timestamp_token is not None
    # The token dates the COSE signature: its genTime is the trusted time.
    gen_time = trusted_time(
        payload.timestamp_token,
        imprint_of_signature(payload.signature),
        [pki.tsa_cert],
        ca_certificates=[pki.ca_cert],
    )
    assert gen_time == STAMPED_AT


def test_the_encoding_is_the_profiles(text: str, signer: Signer, record: QrRecord) -> None:
    message = _message(text)
    # Only the leaf travels, as one byte string (RFC 9360); alg is protected and ES256.
    assert message.protected_header == {1: -7, 33: certificate_der(signer.cert)}
    assert list(message.unprotected) == [-70002]
    claims_map = cbor2.loads(message.payload)
    assert set(claims_map) == {1, 2, 7, 6, 5, 4, -70001}
    assert claims_map[7] == bytes.fromhex(
        record.credential_id.removeprefix("urn:uuid:").replace("-", "")
    )
    assert claims_map[-70001]["d"] == record.vc_digest and len(record.vc_digest) == 32
    assert claims_map[-70001]["i"] == 94_567


@pytest.fixture(scope="module")
def full_text(pki: Pki, signer: Signer) -> str:
    """The QR of a birth-certificate extract with all eleven fields of the seeded type."""
    token = vc.sign_credential(claims(signer, subject=FULL_SUBJECT), signer.key, signer.chain)
    return _qr(pki, signer, QrRecord.from_credential(vc.parse_credential(token)))


def test_a_typical_document_fits_a_printable_qr(text: str, full_text: str) -> None:
    # Six Persian subject fields, the leaf certificate and a token without certificates.
    for name, qr_text in (("six Persian fields", text), ("full birth extract", full_text)):
        version = segno.make_qr(qr_text, error="m", boost_error=False).version
        print(f"\nQR text, {name}: {len(qr_text)} characters, version {version} at level M")
    assert len(text) <= 2_000
    assert len(full_text) <= 2_300


def test_a_changed_byte_in_the_payload_breaks_the_signature(text: str) -> None:
    message = _message(text)
    claims_map = cbor2.loads(message.payload)
    claims_map[-70001]["s"]["given_name_fa"] = "زهره"
    tampered = cose.CoseSign1(
        message.protected,
        message.protected_header,
        cbor2.dumps(claims_map, canonical=True),
        message.signature,
        message.unprotected,
    )
    payload = decode_qr(_text(tampered))
    assert payload.record.subject["given_name_fa"] == "زهره"
    with pytest.raises(DocumentError, match="QR signature does not verify"):
        verify_qr_signature(payload)

    flipped = bytearray(message.payload)
    # A byte of the VC-JWT digest: still well-formed, no longer what was signed.
    flipped[message.payload.index(cbor2.loads(message.payload)[-70001]["d"]) + 5] ^= 0x01
    one_byte = decode_qr(
        _text(
            cose.CoseSign1(
                message.protected,
                message.protected_header,
                bytes(flipped),
                message.signature,
                message.unprotected,
            )
        )
    )
    assert one_byte.record.vc_digest != decode_qr(text).record.vc_digest
    with pytest.raises(DocumentError, match="QR signature does not verify"):
        verify_qr_signature(one_byte)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_character_is_refused_or_breaks_nothing_signed(
    text: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(4, len(text) - 1))
    replacement = data.draw(
        st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:").filter(
            lambda c: c != text[position]
        )
    )
    changed = text[:position] + replacement + text[position + 1 :]
    try:
        payload = decode_qr(changed)
        verify_qr_signature(payload)
    except DocumentError:
        return
    # Only the unsigned timestamp token may differ (the trusted-time check catches that).
    original = decode_qr(text)
    assert payload.message.payload == original.message.payload
    assert payload.message.protected == original.message.protected


def test_the_token_must_date_this_signature_and_be_small(
    pki: Pki, signer: Signer, record: QrRecord
) -> None:
    signed = sign_qr(record, signer.key, signer.cert)
    other = sign_qr(record, signer.key, signer.cert)
    assert other.signature != signed.signature  # ECDSA is randomised: one token per signature
    with pytest.raises(DocumentError, match="does not imprint"):
        signed.with_timestamp(pki.timestamp(other.signature, STAMPED_AT, cert_req=False))
    with pytest.raises(DocumentError, match="without certReq"):
        signed.with_timestamp(pki.timestamp(signed.signature, STAMPED_AT, cert_req=True))
    with pytest.raises(DocumentError, match="cannot be read"):
        signed.with_timestamp(b"\x30\x03\x02\x01\x00")


def test_signing_refuses_a_foreign_key_and_bad_records(
    pki: Pki, signer: Signer, record: QrRecord
) -> None:
    with pytest.raises(DocumentError, match="does not belong"):
        sign_qr(record, generate_private_key(), signer.cert)
    ed25519 = generate_private_key("ed25519")
    with pytest.raises(DocumentError, match="EC P-256"):
        sign_qr(record, ed25519, pki.certificate(ed25519, "doc", member=ISSUER))
    with pytest.raises(ValidationError, match="'id'"):
        sign_qr(_replace(record, subject={"id": "x"}), signer.key, signer.cert)
    with pytest.raises(ValidationError, match="32-byte"):
        sign_qr(_replace(record, vc_digest=b"short"), signer.key, signer.cert)


def _replace(record: QrRecord, **changes: Any) -> QrRecord:
    from dataclasses import replace

    return replace(record, **changes)


def _resigned(signer: Signer, text: str, change: Any, *, header: Any = None) -> str:
    """The QR with its claims or headers changed and properly re-signed: only the shape is
    wrong."""
    message = _message(text)
    claims_map = cbor2.loads(message.payload)
    change(claims_map)
    protected = {33: certificate_der(signer.cert)}
    if header is not None:
        header(protected)
    signed = cose.sign_sign1(cbor2.dumps(claims_map), signer.key, protected=protected)
    return _text(signed.with_unprotected(message.unprotected))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c.update({8: "extra"}), "8: Extra inputs"),
        (lambda c: c.pop(1), "1: Field required"),
        (lambda c: c.update({1: "not a member"}), "member id"),
        (lambda c: c.update({2: "IR0012345678"}), "check digit"),
        (lambda c: c.update({7: b"short"}), "7: Data should have at least 16 bytes"),
        (lambda c: c.update({5: "2026-12-01"}), "5: Input should be a valid integer"),
        (lambda c: c.update({4: c[5]}), "exp must be after"),
        (lambda c: c[-70001].update(x=1), "-70001.x: Extra inputs"),
        (lambda c: c[-70001].update(i=-1), "-70001.i: Input should be greater than or equal"),
        (lambda c: c[-70001]["s"].update(id="urn:zb:holder:IR0012345679"), "'id'"),
        (lambda c: c[-70001].update(t="Birth Certificate"), "type code"),
        (lambda c: c.update({"1": c.pop(1)}), "integer labels"),
    ],
)
def test_claims_outside_the_profile_are_refused(
    signer: Signer, text: str, change: Any, reason: str
) -> None:
    decode_qr(_resigned(signer, text, lambda c: None))  # the re-signing itself is sound
    with pytest.raises(DocumentError, match=r"CWT claims|exp must|'id'") as caught:
        decode_qr(_resigned(signer, text, change))
    assert reason in caught.value.detail


def test_envelopes_outside_the_profile_are_refused(signer: Signer, text: str) -> None:
    cases: list[tuple[str, str]] = [
        ("ZB2:" + text[4:], "starts with ZB1:"),
        ("ZB1:" + "ab", "not Base45"),
        ("ZB1:" + "Z" * 4_400, "at most"),
        ("ZB1:" + base45.b45encode(b"not zlib").decode(), "not zlib"),
        ("ZB1:" + base45.b45encode(zlib.compress(b"\x00" * 20_000)).decode(), "more than"),
        ("ZB1:" + base45.b45encode(zlib.compress(cbor2.dumps([1, 2]))).decode(), "COSE_Sign1"),
        (_resigned(signer, text, lambda c: None, header=lambda h: h.pop(33)), "x5chain"),
        (
            _resigned(signer, text, lambda c: None, header=lambda h: h.update({4: b"kid"})),
            "only alg",
        ),
        (
            _resigned(signer, text, lambda c: None, header=lambda h: h.update({33: b"junk"})),
            "not a certificate",
        ),
    ]
    message = _message(text)
    cases.append((_text(message.with_unprotected({-70002: "text"})), "byte string"))
    cases.append((_text(message.with_unprotected({4: b"kid"})), "only its timestamp"))
    es384 = cose.CoseSign1(
        cbor2.dumps({1: -35, 33: b""}), {1: -35}, message.payload, message.signature
    )
    cases.append((_text(es384), "only ES256"))
    for bad, reason in cases:
        with pytest.raises(DocumentError, match=reason):
            decode_qr(bad)


@pytest.mark.parametrize("which", ["text", "full_text"])
def test_the_printed_code_reads_back_rotated_and_downscaled(
    which: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    text: str = request.getfixturevalue(which)
    symbol = segno.make_qr(text, error="m", boost_error=False)
    assert symbol.error == "M"
    modules = symbol.symbol_size(scale=1, border=4)[0]
    printed = Image.open(io.BytesIO(qr_png(text, scale=10)))
    assert printed.size == (modules * 10, modules * 10)
    rotated = printed.convert("L").rotate(
        5, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC
    )
    # About 3 pixels per module, as a phone photo or a 150 dpi scan of a small print gives.
    factor = 3 / 10
    photo = rotated.resize(
        (round(rotated.width * factor), round(rotated.height * factor)), Image.Resampling.LANCZOS
    )
    for kind in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        photo.save(buffer, format=kind, **({"quality": 85} if kind == "JPEG" else {}))
        (tmp_path / f"qr.{kind.lower()}").write_bytes(buffer.getvalue())
        assert read_qr_image(buffer.getvalue()) == [text], kind


def test_the_svg_scales_and_images_without_a_code_read_empty(text: str) -> None:
    svg = qr_svg(text)
    assert svg.startswith("<svg") and "viewBox" in svg and 'width="' not in svg.split(">")[0]
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    assert read_qr_image(blank.getvalue()) == []
    gif = io.BytesIO()
    Image.new("L", (20, 20), 255).save(gif, format="GIF")
    with pytest.raises(DocumentError, match="not PNG or JPEG"):
        read_qr_image(gif.getvalue())
    with pytest.raises(DocumentError, match="not a readable"):
        read_qr_image(b"%PDF-1.7 not an image")


def test_the_vc_digest_ties_the_qr_to_its_vc_jwt(signer: Signer, record: QrRecord) -> None:
    token = vc.sign_credential(claims(signer), signer.key, signer.chain)
    again = QrRecord.from_credential(vc.parse_credential(token))
    assert again.vc_digest == hashlib.sha256(token.encode()).digest()
    # Another signature of the same claims is another VC-JWT: another digest, same facts.
    assert again.vc_digest != record.vc_digest
    assert _replace(again, vc_digest=record.vc_digest) == record
