"""The demo's accreditation system, set up in central's database before central starts (as the
demo's members are): the programme's seeded schemes, the finance ecosystem's operating company,
and three accreditation stories, each made the way the procedure makes it — an application
with evidence, reviewed and decided by an assessor of the IT authority (another member than
the applicant):

- the finance ecosystem company, accredited as a payment facilitator in finance at level high,
  which cross-border trade recognises (high counts as substantial there);
- the national post company, accredited as a logistics tracking provider in the supply chain,
  then suspended after an audit finding;
- and nobody accredited as an e-invoice provider in tax, which the tax organisation's
  taxpayers registry requires of the finance company's reads (the demo's refused call);
- and the six agencies that issue the seeded document types, each accredited as a document
  issuer in its type's ecosystem (or nationally) at the level the type asks for.

Idempotent: a re-run finds the accreditations and leaves them as they are."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import service as acc
from zistboom.accreditation.seed import seed_schemes
from zistboom.central import operators
from zistboom.central import service as central
from zistboom.central.models import find_member
from zistboom.core.accreditation import Requirement
from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.database import utc_now
from zistboom.demo.federation import INSTANCE, member_id, organisation
from zistboom.registries.seed import operator_company

PAYMENTS = "finance-payment-facilitator"
LOGISTICS = "supply-chain-logistics-tracking-provider"
RECOGNISING = "cross-border-trade"
OPERATED = ("finance", "energy")
"""The ecosystems whose operating companies the demo names: the finance one is a demo member
with a gateway; the energy one (50 % private in the companies registry) only a member, so that
its shareholding check shows a finding."""
TAXPAYERS_REQUIREMENT = Requirement("tax", "e-invoice-provider", "basic")
"""What the taxpayers registry asks of the finance company's reads (which it lacks)."""


async def _key(session: AsyncSession, role: str, member: str, name: str) -> operators.Operator:
    holder = await central.member_by_id(session, member, field="member")
    _, secret = await operators.create_api_key(
        session, name=name, role=role, member=holder, actor=operators.SYSTEM
    )
    return await operators.authenticate(session, secret)


async def _accredit(
    session: AsyncSession,
    applicant_member: str,
    scheme: str,
    level: str,
    assessor: operators.Operator,
) -> str:
    applicant = await _key(session, "member", applicant_member, "demo applicant")
    application = await acc.submit(
        session,
        acc.ApplicationInput(scheme, applicant_member, level, "member", None, "demo application"),
        actor=applicant,
    )
    record = await acc.get_scheme(session, scheme)
    for criterion in record.criteria:
        await acc.attach_evidence(
            session,
            application.identifier,
            criterion=criterion.code,
            filename=f"{criterion.code}.pdf",
            media_type="application/pdf",
            content=f"%PDF-1.7 synthetic evidence for {criterion.code}\n".encode(),
            actor=applicant,
        )
    await acc.start_review(session, application.identifier, actor=assessor)
    for criterion in record.criteria:
        await acc.review_criterion(
            session, application.identifier, criterion.code, "met", "seen", actor=assessor
        )
    decision = await acc.decide(
        session,
        application.identifier,
        acc.DecisionInput("granted", "every criterion is met (demo)"),
        actor=assessor,
    )
    return f"acc-{decision.accreditation_id}"


async def seed_accreditation(session: AsyncSession, trust_list_key: PrivateKey) -> None:
    """Schemes, the finance ecosystem's operator, and the demo's accreditations (once)."""
    await seed_schemes(session)
    finance = member_id(organisation("finance-ecosystem"))
    post = member_id(organisation("national-post"))
    for key in OPERATED:
        ecosystem = await central.get_ecosystem(session, key)
        if ecosystem.operator_member_id is not None:
            continue
        code, name_fa, name_en = operator_company(key)
        operator = await find_member(session, INSTANCE, "COM", code)
        if operator is None:
            operator = await central.register_member(
                session,
                INSTANCE,
                central.MemberInput("COM", code, name_fa, name_en, "ecosystem-operator"),
                actor=operators.SYSTEM,
            )
        await central.set_ecosystem_operator(
            session, ecosystem, operator, reason="demo", actor=operators.SYSTEM
        )
    if await acc.list_accreditations(session, member=finance):
        return
    assessor = await _key(
        session, "assessor", member_id(organisation("it-authority")), "demo assessor"
    )
    for scheme in (PAYMENTS, LOGISTICS):
        await acc.grant_authority(
            session,
            key_id=assessor.key_id,
            scheme=scheme,
            depth=1,
            reason="appointed for the demo",
            actor=operators.SYSTEM,
        )
    await _accredit(session, finance, PAYMENTS, "high", assessor)
    logistics = await _accredit(session, post, LOGISTICS, "substantial", assessor)
    await acc.suspend(
        session, logistics, "audit finding: tracking data kept too long", actor=assessor
    )
    await acc.create_recognition(
        session,
        ecosystem=RECOGNISING,
        scheme=PAYMENTS,
        terms=acc.RecognitionTerms(
            kinds=["payment-facilitator"],
            level_mapping={"high": "substantial", "substantial": "basic"},
            valid_until=utc_now() + timedelta(days=365),
        ),
        reason="cross-border payments by accredited facilitators",
        instance=INSTANCE,
        key=lambda: trust_list_key,
        actor=operators.SYSTEM,
    )


async def seed_document_issuers(session: AsyncSession, issuers: dict[str, Requirement]) -> None:
    """Each issuing agency (organisation key → what its document type requires) accredited as
    a document issuer at that level, by the IT authority's assessor (once per agency)."""
    assessor: operators.Operator | None = None
    authorised: set[str] = set()
    for key, requirement in issuers.items():
        scheme = next(
            s.code
            for s in await acc.list_schemes(session, ecosystem=requirement.ecosystem)
            if s.kind == requirement.kind
        )
        applicant = member_id(organisation(key))
        if await acc.list_accreditations(session, scheme=scheme, member=applicant):
            continue
        if assessor is None:
            assessor = await _key(
                session, "assessor", member_id(organisation("it-authority")), "demo assessor"
            )
        if scheme not in authorised:
            await acc.grant_authority(
                session,
                key_id=assessor.key_id,
                scheme=scheme,
                depth=1,
                reason="appointed for the demo",
                actor=operators.SYSTEM,
            )
            authorised.add(scheme)
        await _accredit(session, applicant, scheme, requirement.level, assessor)
