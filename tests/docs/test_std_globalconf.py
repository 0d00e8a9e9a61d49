"""ZB-STD-003 (global configuration) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked: the example payload is a valid
document, the example anchor a valid anchor, and the example JWS a real signature over exactly
that payload by the anchor's key. The field tables must list exactly the fields of the models.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from pydantic import BaseModel

from standard_examples import fenced_examples
from zistboom.core.globalconf import (
    JWS_TYPE,
    Anchor,
    CentralInfo,
    EcosystemEntry,
    GatewayEntry,
    GlobalConf,
    GlobalConfRefused,
    GlobalGroupEntry,
    MemberEntry,
    RevokedCertificate,
    TrustListPointer,
    verify_global_conf,
)

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-003-global-configuration.md"
KNOWN_EXAMPLES = {"global-conf-payload", "anchor", "global-conf-jws"}


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example_blocks() -> list[tuple[str, str]]:
    """(name, body) of every fenced block whose info string starts with ``zb-example``."""
    return fenced_examples(standard_text())


def example(name: str) -> str:
    bodies = [body for block_name, body in example_blocks() if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0]


def test_every_example_block_is_known_and_present() -> None:
    names = [name for name, _ in example_blocks()]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES)


def test_header_and_persian_abstract() -> None:
    text = standard_text()
    assert "| Version | 1.2 |" in text
    assert "| Date | 2026-12-01 |" in text
    assert "| Changes | 1.2: `revoked_certificates` beside `revoked_serials`" in text
    assert " 1.1: `trust_list_digest` replaced by" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1. Purpose")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 3000].replace(" ", ""))


def test_payload_example_is_a_valid_document() -> None:
    conf = GlobalConf.model_validate_json(example("global-conf-payload"), strict=True)
    assert conf.instance == "IR-DEMO"
    for pem in conf.ca_certificates:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.value.ca
    for pem in conf.tsa_certificates:
        x509.load_pem_x509_certificate(pem.encode("ascii"))


def test_payload_example_points_at_a_trust_list() -> None:
    conf = GlobalConf.model_validate_json(example("global-conf-payload"), strict=True)
    assert conf.trust_list is not None
    assert conf.trust_list.url == f"{conf.central.url}/trust-list"


def test_payload_example_dates_each_revocation() -> None:
    conf = GlobalConf.model_validate_json(example("global-conf-payload"), strict=True)
    assert conf.revoked_serials
    assert [entry.serial for entry in conf.revoked_certificates] == conf.revoked_serials
    for serial in conf.revoked_serials:
        revoked_at = conf.revoked_at(int(serial, 16))
        assert revoked_at is not None
        assert revoked_at <= conf.generated_at
        assert revoked_at.microsecond == 0  # whole seconds, as §5.11 says central writes them
    assert conf.revoked_at(int(conf.revoked_serials[0], 16) + 1) is None
    # The consistency rule of §5.8 holds for the example and is enforced.
    data = json.loads(example("global-conf-payload"))
    data["revoked_certificates"] = data["revoked_certificates"][1:]
    with pytest.raises(ValueError, match="no revocation time for"):
        GlobalConf.model_validate(data)


def test_anchor_example_is_a_valid_anchor() -> None:
    anchor = Anchor.from_json(example("anchor"))
    assert anchor.instance == "IR-DEMO"
    assert anchor.url.endswith("/global-conf")


def test_jws_example_signs_exactly_the_example_payload() -> None:
    conf = GlobalConf.model_validate_json(example("global-conf-payload"), strict=True)
    anchor = Anchor.from_json(example("anchor"))
    token = "".join(example("global-conf-jws").split())

    verified = verify_global_conf(token, anchor, now=conf.generated_at)
    assert verified == conf

    header_segment, payload_segment, _ = token.split(".")
    payload = base64.urlsafe_b64decode(payload_segment + "=" * (-len(payload_segment) % 4))
    assert payload == conf.canonical_json()
    header = json.loads(base64.urlsafe_b64decode(header_segment + "=" * (-len(header_segment) % 4)))
    assert header["typ"] == JWS_TYPE
    assert header["kid"] == anchor.key_fingerprint

    with pytest.raises(GlobalConfRefused) as caught:
        verify_global_conf(token, anchor, now=conf.expires_at + timedelta(seconds=1))
    assert caught.value.reason == "expired"


def test_etag_example_matches_the_example_token() -> None:
    token = "".join(example("global-conf-jws").split())
    etag = f'"42-{hashlib.sha256(token.encode("ascii")).hexdigest()[:16]}"'
    assert GlobalConf.model_validate_json(example("global-conf-payload")).version == 42
    assert f"`{etag}`" in standard_text()


def section(heading: str) -> str:
    text = standard_text()
    start = text.index(f"\n{heading}")
    following = re.search(r"\n#{2,3} ", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


@pytest.mark.parametrize(
    ("heading", "model"),
    [
        ("### 4.1 Content", Anchor),
        ("### 5.1 Top-level fields", GlobalConf),
        ("### 5.2 `central`", CentralInfo),
        ("### 5.3 Member entry", MemberEntry),
        ("### 5.4 Gateway entry", GatewayEntry),
        ("### 5.5 Global group entry", GlobalGroupEntry),
        ("### 5.6 Ecosystem entry", EcosystemEntry),
        ("### 5.7 Trust-list pointer", TrustListPointer),
        ("### 5.11 Revoked-certificate entry", RevokedCertificate),
    ],
)
def test_field_tables_match_the_models(heading: str, model: type[BaseModel]) -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section(heading), re.MULTILINE))
    assert documented == set(model.model_fields)
