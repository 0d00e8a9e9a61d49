"""The verification algorithm (documents/verification.py, documents/checks.py) over real
documents: a real instance CA and TSA, real signatures and tokens, a real trust list, signed
status lists. Each failing check is shown failing by name, and the VC-JWT and its QR verify to the
same record."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import base45  # type: ignore[import-untyped]
import cbor2
import orjson
import pytest
import yaml
from PIL import Image

from document_formats import (
    HUB,
    ISSUER,
    LIST_ID,
    OTHER_MEMBER,
    PERSIAN_SUBJECT,
    T0,
    Pki,
    Signer,
    claims,
)
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto import cose
from zistboom.core.crypto.keys import b64url_decode, b64url_encode
from zistboom.core.errors import DocumentError
from zistboom.core.trustlist import FORMAT, TrustList
from zistboom.documents import checks as checks_module
from zistboom.documents import profile, vc, verification
from zistboom.documents.checks import CHECK_NAMES, MESSAGES_FA
from zistboom.documents.qr import QrRecord, qr_png, sign_qr
from zistboom.documents.statuslist import StatusBits, parse_status_list, status_list_credential
from zistboom.documents.verification import (
    CachedContext,
    DocumentTypeView,
    Presented,
    StatusListView,
    VerificationReport,
    read_form,
    verify,
)

TYPE = "birth-certificate-extract"
NOW = T0 + timedelta(days=30)
STAMPED = T0 + timedelta(seconds=2)
INDEX = 94_567
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": list(PERSIAN_SUBJECT),
    "properties": {name: {"type": "string", "minLength": 1} for name in PERSIAN_SUBJECT},
}


def iso(moment: datetime) -> str:
    return profile.rfc3339(moment)


def trust_list(*, until: datetime = T0 + timedelta(days=365), history: Any = None) -> TrustList:
    return TrustList.model_validate(
        {
            "format": FORMAT,
            "instance": "IR-DEMO",
            "sequence": 1,
            "issued_at": iso(NOW),
            "next_update": iso(NOW + timedelta(days=1)),
            "schemes": [
                {
                    "code": "national-document-issuer",
                    "ecosystem": "national",
                    "kind": "document-issuer",
                    "actions": ["issue"],
                    "levels": ["basic", "substantial", "high"],
                    "name_fa": "صادرکنندهٔ سند",
                    "name_en": "Document issuer",
                    "history": [{"status": "active", "at": iso(T0 - timedelta(days=200))}],
                }
            ],
            "accreditations": [
                {
                    "id": "acc-civil-registration",
                    "scheme": "national-document-issuer",
                    "member": ISSUER,
                    "scope": "member",
                    "subject": ISSUER,
                    "level": "high",
                    "valid_from": iso(T0 - timedelta(days=100)),
                    "valid_until": iso(until),
                    "history": history
                    or [{"status": "granted", "at": iso(T0 - timedelta(days=100))}],
                }
            ],
            "recognitions": [],
            "assessors": [],
        }
    )


@dataclass
class World:
    """One issuer's documents and everything a verifier holds about them."""

    pki: Pki = field(default_factory=Pki)
    signer: Signer = field(init=False)
    list_signer: Signer = field(init=False)
    bits: dict[profile.StatusPurpose, StatusBits] = field(init=False)
    list_valid_from: datetime = NOW - timedelta(hours=1)
    trust: TrustList = field(default_factory=trust_list)
    revocations: dict[int, datetime] = field(default_factory=dict)
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.signer = self.pki.signer()
        self.list_signer = self.signer
        self.bits = {purpose: StatusBits() for purpose in profile.STATUS_PURPOSES}

    def issue(
        self, signer: Signer | None = None, *, stamped: datetime = STAMPED, **changes: Any
    ) -> tuple[str, bytes, str]:
        """A VC-JWT with its token, and its QR with the QR's own token."""
        signer = signer or self.signer
        token = vc.sign_credential(
            claims(signer, status_index=INDEX, **changes), signer.key, signer.chain
        )
        parsed = vc.parse_credential(token)
        vc_token = self.pki.timestamp(parsed.signature, stamped)
        signed_qr = sign_qr(QrRecord.from_credential(parsed), signer.key, signer.cert)
        qr_text = signed_qr.with_timestamp(
            self.pki.timestamp(signed_qr.signature, stamped + timedelta(seconds=1), cert_req=False)
        )
        return token, vc_token, qr_text

    def status_list(self, purpose: profile.StatusPurpose) -> StatusListView:
        url = profile.status_list_url(HUB, LIST_ID, purpose)
        list_claims = status_list_credential(
            list_url=url,
            issuer=profile.issuer_urn(ISSUER),
            purpose=purpose,
            bits=self.bits[purpose],
            valid_from=self.list_valid_from,
        )
        signed = vc.sign_credential(list_claims, self.list_signer.key, self.list_signer.chain)
        return StatusListView(parse_status_list(signed), fetched_at=self.list_valid_from)

    def context(self, **changes: Any) -> CachedContext:
        base = CachedContext(
            ca_certificates=[self.pki.ca_cert],
            tsa_certificates=[self.pki.tsa_cert],
            hub_url=HUB,
            trust=TrustIndex(self.trust),
            types={
                TYPE: DocumentTypeView(
                    TYPE, SCHEMA, Requirement("national", "document-issuer", "high")
                )
            },
            status_lists={
                profile.status_list_url(HUB, LIST_ID, p): self.status_list(p)
                for p in profile.STATUS_PURPOSES
            },
            revocations=self.revocations,
            clock=lambda: self.now,
            refreshed=[verification.SourceFreshness("trust list 1", NOW - timedelta(hours=2))],
        )
        return replace(base, **changes)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def issued(world: World) -> tuple[str, bytes, str]:
    return world.issue()


def results(report: VerificationReport) -> dict[str, str]:
    return {check.name: check.result for check in report.checks}


def failing(report: VerificationReport) -> set[str]:
    return {check.name for check in report.checks if check.result != "passed"}


async def run(
    content: str | bytes, context: CachedContext, token: bytes | None = None
) -> VerificationReport:
    return await verify(read_form(content, timestamp_token=token), context)


async def test_a_good_document_verifies_in_both_forms_to_the_same_record(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token, vc_token, qr_text = issued
    context = world.context()
    by_vc = await run(token, context, vc_token)
    by_qr = await run(qr_text, context)
    for report, form in ((by_vc, "vc-jwt"), (by_qr, "qr")):
        assert [c.name for c in report.checks] == list(CHECK_NAMES)
        assert report.verified, report.checks
        assert report.form == form
    assert by_vc.record == by_qr.record
    assert by_vc.record is not None
    assert by_vc.record.id == vc.parse_credential(token).credential_id
    assert (by_vc.record.issuer, by_vc.record.type, by_vc.record.issued_at) == (ISSUER, TYPE, T0)
    # The trusted time is each form's own token, not iat.
    assert iso(STAMPED) in by_vc.check("trusted-time").reason
    assert iso(STAMPED + timedelta(seconds=1)) in by_qr.check("trusted-time").reason
    # The sources say what was used and when it was refreshed.
    names = [source.name for source in by_vc.sources]
    assert names[0] == "trust list 1" and any(LIST_ID in name for name in names[1:])
    # Each check speaks Persian too, from the catalogue.
    assert all(re.search("[\u0600-\u06ff]", check.reason_fa) for check in by_vc.checks)
    assert not any(re.search("[\u0600-\u06ff]", check.reason) for check in by_vc.checks)


async def test_the_qr_read_from_an_image_and_the_enveloped_vc(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token, vc_token, qr_text = issued
    photo = Image.open(io.BytesIO(qr_png(qr_text, scale=6))).rotate(5, expand=True, fillcolor=255)
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    by_image = await run(buffer.getvalue(), world.context())
    assert by_image.verified and by_image.form == "qr"
    enveloped = await run(f"  data:application/vc+jwt,{token}\n", world.context(), vc_token)
    assert enveloped.verified
    # The hub finds the token in the locker when it is not presented.
    credential_id = vc.parse_credential(token).credential_id
    stored = await run(token, world.context(timestamps={credential_id: vc_token}))
    assert stored.verified
    # A pull link is resolved by the caller, which presents what it found.
    pulled = await verify(
        Presented("pull-link", "vc-jwt", token.encode(), vc_token), world.context()
    )
    assert pulled.verified and pulled.form == "pull-link"


def test_read_form_tells_the_forms_apart() -> None:
    assert read_form("ZB1:ABC").source == "qr"
    assert read_form(b"%PDF-1.7\n...").form == "pdf"
    assert read_form(b"\x89PNG\r\n\x1a\n....").source == "image"
    assert read_form(b"\xff\xd8\xff\xe0....").source == "image"
    assert read_form("a.b.c").form == "vc-jwt"
    for junk in ("hello", b"GIF89a", ""):
        with pytest.raises(DocumentError, match="not a document"):
            read_form(junk)


async def test_a_changed_byte_fails_the_signature_in_either_form(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token, vc_token, qr_text = issued
    header, _, signature = token.split(".")
    document = vc.parse_credential(token).claims
    document["credentialSubject"]["given_name_fa"] = "زهره"
    tampered = f"{header}.{b64url_encode(orjson.dumps(document))}.{signature}"
    report = await run(tampered, world.context(), vc_token)
    assert failing(report) == {"signature"}
    assert "signature does not verify" in report.check("signature").reason

    message = cose.decode_sign1(zlib.decompress(base45.b45decode(qr_text[4:])))
    qr_claims = cbor2.loads(message.payload)
    qr_claims[-70001]["s"]["given_name_fa"] = "زهره"
    forged = cose.CoseSign1(
        message.protected,
        message.protected_header,
        cbor2.dumps(qr_claims, canonical=True),
        message.signature,
        message.unprotected,
    )
    forged_text = "ZB1:" + base45.b45encode(zlib.compress(forged.encode())).decode()
    report = await run(forged_text, world.context())
    assert failing(report) == {"signature"}


async def test_an_unreadable_document_skips_the_rest(world: World) -> None:
    report = await run("ZB1:NOT BASE45 ~~", world.context())
    assert results(report) == {"format": "failed"} | {n: "skipped" for n in CHECK_NAMES[1:]}
    assert not report.verified and report.record is None
    assert "Base45" in report.check("format").reason


async def test_expired_and_not_yet_valid(world: World, issued: tuple[str, bytes, str]) -> None:
    token, vc_token, _ = issued
    valid_until = T0 + timedelta(days=3650)
    expired = await run(token, world.context(clock=lambda: valid_until), vc_token)
    assert "validity" in failing(expired)
    assert f"expired at {iso(valid_until)}" in expired.check("validity").reason
    early = await run(token, world.context(clock=lambda: T0 - timedelta(minutes=1)), vc_token)
    assert early.check("validity").result == "failed"
    assert "not valid before" in early.check("validity").reason


async def test_revoked_and_suspended_and_reinstated() -> None:
    world = World()
    token, vc_token, qr_text = world.issue()
    world.bits["suspension"].set(INDEX, True)
    for content, stamp in ((token, vc_token), (qr_text, None)):
        report = await run(content, world.context(), stamp)
        assert failing(report) == {"status"}
        assert report.check("status").reason == "the document is suspended"

    world.bits["suspension"].set(INDEX, False)  # reinstated: the issuer re-signs the list
    assert (await run(token, world.context(), vc_token)).verified
    assert (await run(qr_text, world.context())).verified

    world.bits["revocation"].set(INDEX, True)
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"status"}
    assert report.check("status").reason == "the document is revoked"
    # Another index in the same list is untouched.
    world.bits["revocation"].set(INDEX, False)
    world.bits["revocation"].set(INDEX + 1, True)
    assert (await run(token, world.context(), vc_token)).verified


async def test_a_stale_or_missing_or_foreign_status_list_fails_status(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token, vc_token, _ = issued
    stale = await run(token, world.context(clock=lambda: NOW + timedelta(days=3)), vc_token)
    assert failing(stale) == {"status"}
    assert "status list is stale" in stale.check("status").reason

    missing = await run(token, world.context(status_lists={}), vc_token)
    assert failing(missing) == {"status"}
    assert "not available" in missing.check("status").reason

    # A list signed by another member's doc key is not the issuer's list.
    stranger = World(pki=world.pki)
    stranger.list_signer = world.pki.signer(OTHER_MEMBER)
    lists = world.context().status_lists
    url = profile.status_list_url(HUB, LIST_ID, "revocation")
    lists[url] = stranger.status_list("revocation")
    foreign = await run(token, world.context(status_lists=lists), vc_token)
    assert failing(foreign) == {"status"}
    assert "is issued to" in foreign.check("status").reason

    # A list served under the other purpose's URL is refused too.
    swapped = world.context().status_lists
    swapped[url] = world.status_list("suspension")
    assert "status" in failing(await run(token, world.context(status_lists=swapped), vc_token))


async def test_accreditation_revoked_after_the_trusted_time_still_holds() -> None:
    world = World(
        trust=trust_list(
            history=[
                {"status": "granted", "at": iso(T0 - timedelta(days=100))},
                {"status": "revoked", "at": iso(T0 + timedelta(days=1)), "reason": "audit"},
            ]
        )
    )
    token, vc_token, qr_text = world.issue()
    for content, stamp in ((token, vc_token), (qr_text, None)):
        report = await run(content, world.context(), stamp)
        assert report.verified, report.checks
        assert "acc-civil-registration" in report.check("accreditation").reason


async def test_iat_inside_the_accreditation_does_not_help_a_token_after_it() -> None:
    end = T0 + timedelta(days=10)
    world = World(trust=trust_list(until=end))
    late = end + timedelta(days=5)
    token, vc_token, qr_text = world.issue(
        stamped=late, iat=T0 + timedelta(days=5), valid_from=T0 + timedelta(days=5)
    )
    assert vc.parse_credential(token).iat == T0 + timedelta(days=5)  # inside the accreditation
    world.now = late + timedelta(days=1)
    world.list_valid_from = world.now - timedelta(hours=1)
    for content, stamp in ((token, vc_token), (qr_text, None)):
        report = await run(content, world.context(), stamp)
        assert failing(report) == {"accreditation"}, report.checks
        reason = report.check("accreditation").reason
        assert "acc-civil-registration is expired" in reason and iso(late)[:13] in reason


async def test_without_a_token_there_is_no_trusted_time(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token = issued[0]
    report = await run(token, world.context())
    assert results(report)["trusted-time"] == "failed"
    assert results(report)["accreditation"] == "skipped"
    assert "never at iat" in report.check("accreditation").reason
    other = world.pki.timestamp(b"another signature", STAMPED)
    wrong = await run(token, world.context(), other)
    assert failing(wrong) == {"trusted-time", "accreditation"}
    assert "message imprint" in wrong.check("trusted-time").reason
    # A token from a TSA the instance does not know is refused.
    foreign_pki = Pki()
    foreign = await run(
        token, world.context(), foreign_pki.timestamp(vc.parse_credential(token).signature, STAMPED)
    )
    assert "trusted-time" in failing(foreign)


async def test_schema_mismatch_and_unknown_type(world: World) -> None:
    token, vc_token, _ = world.issue(subject={**PERSIAN_SUBJECT, "shoe_size": "42"})
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"schema"}
    assert "credentialSubject/shoe_size" in report.check("schema").reason

    token, vc_token, _ = world.issue(subject={**PERSIAN_SUBJECT, "given_name_fa": ""})
    report = await run(token, world.context(), vc_token)
    assert "credentialSubject/given_name_fa" in report.check("schema").reason

    good, good_token, _ = world.issue()
    unknown = await run(good, world.context(types={}), good_token)
    assert results(unknown)["schema"] == "failed"
    assert results(unknown)["accreditation"] == "skipped"


async def test_a_certificate_of_another_kind_or_member(world: World) -> None:
    sign_kind = world.pki.signer(kind="sign")
    token, vc_token, qr_text = world.issue(sign_kind)
    for content, stamp in ((token, vc_token), (qr_text, None)):
        report = await run(content, world.context(), stamp)
        assert failing(report) == {"certificate"}
        assert "not a doc certificate" in report.check("certificate").reason

    # Signed with another member's doc certificate while claiming to be ISSUER.
    other = world.pki.signer(OTHER_MEMBER)
    impostor = replace(other, member=ISSUER)
    token, vc_token, _ = world.issue(impostor)
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"certificate"}
    assert f"issued to {OTHER_MEMBER}" in report.check("certificate").reason

    # A doc certificate from another CA.
    outsider = Pki().signer()
    token, vc_token, _ = world.issue(outsider)
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"certificate"}
    assert "instance CA" in report.check("certificate").reason


async def test_a_certificate_revoked_before_issue_fails_and_after_issue_does_not() -> None:
    world = World()
    token, vc_token, qr_text = world.issue()
    serial = world.signer.cert.serial_number
    world.revocations[serial] = STAMPED - timedelta(seconds=1)
    world.list_signer = world.pki.signer()  # the issuer signs its lists with its new key
    for content, stamp in ((token, vc_token), (qr_text, None)):
        report = await run(content, world.context(), stamp)
        assert failing(report) == {"certificate"}
        assert "was revoked at" in report.check("certificate").reason

    world.revocations[serial] = STAMPED + timedelta(days=1)
    world.list_signer = world.signer
    # Lists signed later with the revoked key are not to be trusted...
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"status"}
    assert "revoked" in report.check("status").reason
    # ...but with the issuer's new key they are, and the document signed before still holds.
    world.list_signer = world.pki.signer()
    report = await run(token, world.context(), vc_token)
    assert report.verified, report.checks
    assert "after the trusted time" in report.check("certificate").reason


async def test_a_certificate_expired_at_the_trusted_time(world: World) -> None:
    short = world.pki.signer(not_after=T0 + timedelta(seconds=1))
    token, vc_token, _ = world.issue(short)
    report = await run(token, world.context(), vc_token)
    assert failing(report) == {"certificate"}
    assert "expired" in report.check("certificate").reason


def test_every_message_code_has_a_persian_sentence_and_every_sentence_is_used() -> None:
    sources = "".join(
        Path(module.__file__ or "").read_text(encoding="utf-8")
        for module in (checks_module, verification)
    )
    used = set(
        re.findall(
            r'"((?:format|signature|certificate|trusted-time|accreditation|'
            r'status|validity|schema|pdf-signature|skipped)\.[a-z-]+)"',
            sources,
        )
    )
    catalogue = yaml.safe_load(
        (Path(checks_module.__file__ or "").parent / "messages_fa.yaml").read_text("utf-8")
    )
    assert used == set(catalogue) == set(MESSAGES_FA)
    for code, sentence in MESSAGES_FA.items():
        assert re.search("[\u0600-\u06ff]", sentence), code
        sentence.format(time="۱۴۰۵/۰۹/۱۰ ۱۳:۳۰", member=ISSUER, type=TYPE, serial="ab")


async def test_a_tampered_status_list_is_refused(
    world: World, issued: tuple[str, bytes, str]
) -> None:
    token, vc_token, _ = issued
    lists = world.context().status_lists
    url = profile.status_list_url(HUB, LIST_ID, "revocation")
    good = lists[url].credential.token
    header, _, signature = good.split(".")
    document = vc.parse_vc_jwt(good).claims
    document["validUntil"] = iso(NOW + timedelta(days=30))
    forged = f"{header}.{b64url_encode(orjson.dumps(document))}.{signature}"
    lists[url] = StatusListView(parse_status_list(forged), fetched_at=NOW)
    report = await run(token, world.context(status_lists=lists), vc_token)
    assert failing(report) == {"status"}
    assert "signature does not verify" in report.check("status").reason
    assert b64url_decode(signature)  # the signature itself was left as it was
