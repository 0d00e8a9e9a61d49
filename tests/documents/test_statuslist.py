"""Bitstring Status List v1.0 (documents/statuslist.py): the bit order and encoding the W3C spec
fixes, decoding of lists made by other code, the refusals, the permutation of indexes, and the
signed list credential."""

from __future__ import annotations

import base64
import gzip
import io
import itertools
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from document_formats import HUB, ISSUER, LIST_ID, T0, Pki, Signer
from zistboom.core.crypto.jws import sign_jws
from zistboom.core.crypto.keys import b64url_decode, b64url_encode
from zistboom.core.errors import DocumentError, ValidationError
from zistboom.documents import profile, vc
from zistboom.documents.statuslist import (
    MAX_SIZE,
    MIN_SIZE,
    IndexPermutation,
    StatusBits,
    parse_status_list,
    status_list_credential,
)


def _w3c_decode(text: str) -> bytes:
    """The spec's decoding, written out independently: multibase 'u', base64url, GZIP."""
    assert text[0] == "u"
    body = text[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _w3c_encode(raw: bytes, *, level: int = 9) -> str:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=level, mtime=1_700_000_000) as f:
        f.write(raw)
    return "u" + base64.urlsafe_b64encode(buffer.getvalue()).decode().rstrip("=")


def test_index_zero_is_the_left_most_bit() -> None:
    bits = StatusBits()
    assert bits.size == MIN_SIZE == 131_072
    bits.set(0, True)
    bits.set(9, True)
    bits.set(MIN_SIZE - 1, True)
    raw = bits.to_bytes()
    assert len(raw) == MIN_SIZE // 8
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000 and raw[-1] == 0b0000_0001
    assert sum(raw[2:-1]) == 0
    assert bits.get(0) and bits.get(9) and not bits.get(1) and not bits.get(8)
    bits.set(9, False)
    assert bits.to_bytes()[1] == 0 and not bits.get(9)


def test_the_encoding_is_the_w3c_one_both_ways() -> None:
    bits = StatusBits()
    for index in (0, 7, 8, 94_567, MIN_SIZE - 1):
        bits.set(index, True)
    text = bits.encode()
    assert text.startswith("u") and "=" not in text and "+" not in text and "/" not in text
    assert _w3c_decode(text) == bits.to_bytes()
    assert text == bits.encode()  # deterministic: mtime 0

    # A list written by other code (other compression level, an mtime) decodes to the same bits.
    other = StatusBits.decode(_w3c_encode(bits.to_bytes(), level=1))
    assert other == bits and other.get(94_567) and not other.get(94_566)


@settings(max_examples=30, deadline=None)
@given(
    size_in_bytes=st.integers(MIN_SIZE // 8, MIN_SIZE // 8 * 3),
    indexes=st.sets(st.integers(0, MIN_SIZE - 1), max_size=200),
)
def test_any_bits_round_trip(size_in_bytes: int, indexes: set[int]) -> None:
    bits = StatusBits(size_in_bytes * 8)
    for index in indexes:
        bits.set(index, True)
    decoded = StatusBits.decode(bits.encode())
    assert decoded.size == bits.size
    assert {i for i in range(MIN_SIZE) if decoded.get(i)} == indexes


def _gzip_b64(raw: bytes) -> str:
    return "u" + b64url_encode(gzip.compress(raw))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (base64.b64encode(gzip.compress(bytes(MIN_SIZE // 8))).decode(), "prefix 'u'"),
        ("z" + b64url_encode(gzip.compress(bytes(MIN_SIZE // 8))), "prefix 'u'"),
        ("u" + "%%%", "not base64url"),
        ("u" + b64url_encode(b"plain bytes, not gzip"), "not GZIP"),
        ("u" + b64url_encode(gzip.compress(bytes(MIN_SIZE // 8))[:-6]), "complete GZIP member"),
        (
            "u" + b64url_encode(gzip.compress(bytes(MIN_SIZE // 8)) + gzip.compress(b"\xff")),
            "exactly one",
        ),
        (_gzip_b64(bytes(MIN_SIZE // 8 - 1)), "fewer than the minimum"),
        (_gzip_b64(bytes(MAX_SIZE // 8 + 1)), "more than"),
    ],
)
def test_bad_encoded_lists_are_refused(text: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        StatusBits.decode(text)


def test_sizes_and_indexes_are_checked() -> None:
    for size in (MIN_SIZE - 8, MIN_SIZE + 1, MAX_SIZE + 8, 0):
        with pytest.raises(ValidationError, match="multiple of 8"):
            StatusBits(size)
    bits = StatusBits()
    for index in (-1, MIN_SIZE):
        with pytest.raises(DocumentError, match="outside the list"):
            bits.get(index)
        with pytest.raises(DocumentError, match="outside the list"):
            bits.set(index, True)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(5, 3000), data=st.data())
def test_a_permutation_hands_out_every_index_once_and_never_next_door(
    size: int, data: st.DataObject
) -> None:
    candidates = [a for a in range(3, size - 1, 2) if IndexPermutation.valid_multiplier(a, size)]
    if not candidates:  # e.g. 6: every odd a is 1, 3 (not coprime) or 5 (= size - 1)
        with pytest.raises(ValidationError):
            IndexPermutation.random(size)
        return
    permutation = IndexPermutation(
        size, data.draw(st.sampled_from(candidates)), data.draw(st.integers(0, size - 1))
    )
    indexes = [permutation.index(counter) for counter in range(size)]
    assert sorted(indexes) == list(range(size))
    assert all(
        abs(later - earlier) not in (1, size - 1) for earlier, later in itertools.pairwise(indexes)
    )
    assert all(permutation.counter(index) == c for c, index in enumerate(indexes))
    with pytest.raises(ValidationError, match="outside"):
        permutation.index(size)


def test_random_permutations_are_valid_and_differ() -> None:
    permutations = {IndexPermutation.random(MIN_SIZE) for _ in range(20)}
    assert len(permutations) > 1
    for permutation in permutations:
        assert permutation.a % 2 == 1 and permutation.a not in (1, MIN_SIZE - 1)
    small = IndexPermutation.random(15)
    assert sorted(small.index(c) for c in range(15)) == list(range(15))


@pytest.mark.parametrize(
    ("size", "a", "b", "field"),
    [
        (64, 4, 0, "a"),  # even
        (64, 1, 0, "a"),  # sequential
        (64, 63, 0, "a"),  # sequential backwards
        (15, 5, 0, "a"),  # not coprime
        (64, 3, 64, "b"),
        (64, 3, -1, "b"),
        (4, 3, 0, "size"),
    ],
)
def test_bad_permutations_are_refused(size: int, a: int, b: int, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        IndexPermutation(size, a, b)
    assert caught.value.field == field


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Pki().signer()


def _list_claims(purpose: profile.StatusPurpose = "revocation") -> tuple[dict[str, Any], str]:
    url = profile.status_list_url(HUB, LIST_ID, purpose)
    bits = StatusBits()
    bits.set(94_567, True)
    claims = status_list_credential(
        list_url=url,
        issuer=profile.issuer_urn(ISSUER),
        purpose=purpose,
        bits=bits,
        valid_from=T0,
    )
    return claims, url


def test_a_signed_list_reads_back(signer: Signer) -> None:
    claims, url = _list_claims("suspension")
    assert claims["validUntil"] == "2026-12-03T10:00:00Z"  # two days
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert claims["credentialSubject"]["id"] == url + "#list"
    token = vc.sign_credential(claims, signer.key, signer.chain)
    parsed = parse_status_list(token)
    vc.verify_signature(parsed)
    assert parsed.list_url == url and parsed.purpose == "suspension"
    assert parsed.issuer_member == ISSUER
    assert parsed.valid_from == T0 and parsed.valid_until == T0 + timedelta(days=2)
    assert parsed.bits.get(94_567) and not parsed.bits.get(94_568)
    assert parsed.chain[0] == signer.cert


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c["credentialSubject"].update(statusPurpose="suspension"), "statusPurpose"),
        (lambda c: c["credentialSubject"].update(statusSize=1), "statusSize"),
        (lambda c: c["credentialSubject"].update(id="https://elsewhere/#list"), "#list"),
        (lambda c: c.update(type=["VerifiableCredential", "StatusList2021Credential"]), "type"),
        (lambda c: c.pop("validUntil"), "validUntil"),
        (lambda c: c["credentialSubject"].update(encodedList="H4sI"), "prefix 'u'"),
    ],
)
def test_lists_outside_the_profile_are_refused(signer: Signer, change: Any, reason: str) -> None:
    claims, _ = _list_claims()
    token = vc.sign_credential(claims, signer.key, signer.chain)
    header = orjson.loads(b64url_decode(token.split(".")[0]))
    change(claims)
    forged = sign_jws(orjson.dumps(claims), signer.key, headers=header)
    with pytest.raises(DocumentError, match=reason):
        parse_status_list(forged)
