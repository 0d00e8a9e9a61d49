"""Acceptance 1 of issue 8 on both backends: an application walked from submission through a
request for more information to a grant; the accreditation suspended, reinstated and revoked;
after each step the trust list is built from the tables and asked, through ``TrustIndex``, about
moments between the steps. Expiry without any job; the conflict rule; every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accreditation.world import T0, World
from zistboom.accreditation import service as acc
from zistboom.central import audit
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.errors import ConflictError, PermissionDeniedError, ValidationError

REQUIRED = Requirement("tax", "e-invoice-provider", "substantial")
H = timedelta(hours=1)


def holds(index: TrustIndex, entity: str, at_hours: float, req: Requirement = REQUIRED) -> bool:
    return index.authorize(entity, req, T0 + at_hours * H).holds


async def test_application_to_grant_then_suspend_reinstate_revoke(world: World) -> None:
    scheme = await world.scheme(at=T0)
    provider, applicant = await world.member("COM", subsystems=("invoicing",))
    auditor_member, _ = await world.member("GOV")
    assessor = await world.assessor(auditor_member)
    await world.authority(assessor, scheme, at=T0)
    audit_before = await world.run(audit.count)
    service_id = f"{provider}/invoicing/issue"

    # 1 h: submitted, with the first criterion's evidence.
    app = await world.run(
        lambda s: acc.submit(
            s,
            acc.ApplicationInput(scheme, provider, "high", statement="we issue e-invoices"),
            actor=applicant,
            at=T0 + 1 * H,
        )
    )
    app_id = app.identifier
    await world.run(
        lambda s: acc.attach_evidence(
            s,
            app_id,
            criterion="security",
            filename="isms.pdf",
            media_type="application/pdf",
            content=b"%PDF-1.7 ISMS certificate",
            actor=applicant,
            at=T0 + 1 * H,
        )
    )
    # 2 h: under review; 3 h: the assessor asks for the continuity plan.
    await world.run(lambda s: acc.start_review(s, app_id, actor=assessor, at=T0 + 2 * H))
    with pytest.raises(ConflictError) as no_evidence:
        await world.run(
            lambda s: acc.review_criterion(
                s, app_id, "continuity", "met", "", actor=assessor, at=T0 + 2 * H
            )
        )
    assert no_evidence.value.field == "criterion" and "no evidence" in no_evidence.value.detail
    await world.run(
        lambda s: acc.request_information(
            s, app_id, "attach your continuity plan", actor=assessor, at=T0 + 3 * H
        )
    )
    with pytest.raises(ConflictError):  # nothing is decided while the applicant owes an answer
        await world.run(
            lambda s: acc.decide(
                s, app_id, acc.DecisionInput("granted", "ok"), actor=assessor, at=T0 + 3 * H
            )
        )
    # 4 h: the applicant attaches it and answers; the review goes on.
    await world.run(
        lambda s: acc.attach_evidence(
            s,
            app_id,
            criterion="continuity",
            filename="bcp.pdf",
            media_type="application/pdf",
            content=b"%PDF-1.7 continuity plan",
            actor=applicant,
            at=T0 + 4 * H,
        )
    )
    await world.run(lambda s: acc.respond(s, app_id, "attached", actor=applicant, at=T0 + 4 * H))
    for criterion in ("security", "continuity"):
        await world.run(
            lambda s, c=criterion: acc.review_criterion(
                s, app_id, c, "met", "seen", actor=assessor, at=T0 + 5 * H
            )
        )
    index = await world.index(T0 + 5 * H)
    assert not holds(index, provider, 5.5), "nothing is accredited before the decision"

    # 6 h: granted, at the level asked for; the history of the application is complete.
    decision = await world.run(
        lambda s: acc.decide(
            s,
            app_id,
            acc.DecisionInput("granted", "both criteria met", conditions=["annual audit"]),
            actor=assessor,
            at=T0 + 6 * H,
        )
    )
    acc_id = f"acc-{decision.accreditation_id}"
    app = await world.run(lambda s: acc.get_application(s, app_id, actor=applicant))
    assert [e.status for e in app.events] == [
        "submitted",
        "under-review",
        "more-information-requested",
        "under-review",
        "decided",
    ]
    assert app.decision is not None and app.decision.assessor_key == assessor.key_id
    index = await world.index(T0 + 6 * H)
    assert not holds(index, provider, 5.5)
    assert holds(index, provider, 6.5)
    assert holds(index, service_id, 6.5), "a member-scoped accreditation covers its services"
    assert holds(index, provider, 6.5, Requirement("tax", "e-invoice-provider", "high"))
    entry = index.accreditation_ids[acc_id]
    assert entry.conditions == ["annual audit"] and entry.valid_until == T0 + 6 * H + timedelta(
        days=365
    )

    # 7 h: suspended.
    await world.run(
        lambda s: acc.suspend(s, acc_id, "audit overdue", actor=assessor, at=T0 + 7 * H)
    )
    index = await world.index(T0 + 7 * H)
    assert holds(index, provider, 6.5)
    answer = index.authorize(provider, REQUIRED, T0 + 7.5 * H)
    assert not answer.holds and "suspended" in answer.message and "audit overdue" in answer.message
    with pytest.raises(ConflictError) as twice:
        await world.run(lambda s: acc.suspend(s, acc_id, "again", actor=assessor, at=T0 + 7.5 * H))
    assert "is suspended" in twice.value.detail

    # 8 h: reinstated.
    await world.run(lambda s: acc.reinstate(s, acc_id, "audit done", actor=assessor, at=T0 + 8 * H))
    index = await world.index(T0 + 8 * H)
    assert [holds(index, provider, t) for t in (6.5, 7.5, 8.5)] == [True, False, True]
    with pytest.raises(ConflictError) as not_suspended:
        await world.run(lambda s: acc.reinstate(s, acc_id, "x", actor=assessor, at=T0 + 8.5 * H))
    assert "is active" in not_suspended.value.detail

    # 9 h: revoked; the history still answers for the past.
    await world.run(
        lambda s: acc.revoke(s, acc_id, "fraud found", actor=world.admin, at=T0 + 9 * H)
    )
    index = await world.index(T0 + 9 * H)
    assert [holds(index, provider, t) for t in (5.5, 6.5, 7.5, 8.5, 9.5, 100)] == [
        False,
        True,
        False,
        True,
        False,
        False,
    ]
    assert "revoked" in index.authorize(provider, REQUIRED, T0 + 9.5 * H).message
    for change in (acc.reinstate, acc.suspend, acc.withdraw, acc.revoke):
        with pytest.raises(ConflictError) as after_revocation:
            await world.run(
                lambda s, c=change: c(s, acc_id, "after the end", actor=world.admin, at=T0 + 10 * H)
            )
        assert "is revoked" in after_revocation.value.detail
    listed = await world.run(lambda s: acc.list_accreditations(s, at=T0 + 10 * H))
    assert [(row.identifier, state) for row, state in listed] == [(acc_id, "revoked")]
    row = await world.run(lambda s: acc.get_accreditation(s, acc_id))
    assert [(e.status, e.reason) for e in row.events] == [
        ("granted", "both criteria met"),
        ("suspended", "audit overdue"),
        ("reinstated", "audit done"),
        ("revoked", "fraud found"),
    ]

    # Every change is in central's audit log, and the chain holds.
    records = await world.run(
        lambda s: audit.list_records(s, actor=world.admin, after=audit_before)
    )
    actions = [r.action for r in records]
    assert actions.count("accreditation.application.evidence") == 2
    assert {"accreditation.grant", "accreditation.suspend", "accreditation.reinstate"} <= set(
        actions
    )
    assert actions[-1] == "accreditation.revoke" and records[-1].target == acc_id
    verification = await world.run(lambda s: audit.verify(s, actor=world.admin))
    assert verification.ok


async def test_expiry_needs_no_job(world: World) -> None:
    scheme = await world.scheme(validity_days=30)
    provider, applicant = await world.member("GOV")
    assessor = await world.assessor((await world.member("COM"))[0])
    await world.authority(assessor, scheme)
    acc_id = await world.accredit(applicant, provider, scheme, assessor, at=T0 + H)
    row = await world.run(lambda s: acc.get_accreditation(s, acc_id))
    until = row.valid_until
    assert until == row.valid_from + timedelta(days=30)

    index = await world.index(T0 + 2 * H)  # built once, long before the end
    second = timedelta(seconds=1)
    assert index.authorize(provider, REQUIRED, until - second).holds
    expired = index.authorize(provider, REQUIRED, until)
    assert not expired.holds and "expired" in expired.message
    assert acc.state_at(row, until - second) == "active" and acc.state_at(row, until) == "expired"
    listed = await world.run(lambda s: acc.list_accreditations(s, at=until, status="expired"))
    assert [r.identifier for r, _ in listed] == [acc_id]
    with pytest.raises(ConflictError) as late:
        await world.run(lambda s: acc.suspend(s, acc_id, "too late", actor=world.admin, at=until))
    assert "expired" in late.value.detail


async def test_an_assessor_may_not_review_or_decide_its_own_members_application(
    world: World,
) -> None:
    scheme = await world.scheme()
    provider, applicant = await world.member("COM")
    own = await world.assessor(provider)
    other = await world.assessor((await world.member("GOV"))[0])
    await world.authority(own, scheme)
    await world.authority(other, scheme)
    app = await world.run(
        lambda s: acc.submit(
            s, acc.ApplicationInput(scheme, provider, "basic"), actor=applicant, at=T0 + H
        )
    )
    with pytest.raises(PermissionDeniedError) as refused:
        await world.run(lambda s: acc.start_review(s, app.identifier, actor=own, at=T0 + 2 * H))
    assert "conflict of interest" in refused.value.detail
    assert refused.value.extra["conflict"] == {
        "assessor_key": own.key_id,
        "assessor_member": provider,
        "applicant": provider,
    }
    await world.run(lambda s: acc.start_review(s, app.identifier, actor=other, at=T0 + 2 * H))
    with pytest.raises(PermissionDeniedError) as deciding:
        await world.run(
            lambda s: acc.decide(
                s, app.identifier, acc.DecisionInput("refused", "no"), actor=own, at=T0 + 3 * H
            )
        )
    assert "conflict of interest" in deciding.value.detail and provider in deciding.value.detail
    # The applicant itself (a member key) is no assessor at all.
    with pytest.raises(PermissionDeniedError):
        await world.run(
            lambda s: acc.decide(
                s, app.identifier, acc.DecisionInput("refused", "no"), actor=applicant
            )
        )


async def test_applications_are_checked_against_central_and_the_scheme(world: World) -> None:
    scheme = await world.scheme(levels=("basic", "substantial"))
    provider, applicant = await world.member("GOV", subsystems=("portal",))
    other, other_key = await world.member("NGO")

    async def submit(data: acc.ApplicationInput, actor=applicant):
        return await world.run(lambda s: acc.submit(s, data, actor=actor, at=T0 + H))

    cases = [
        (acc.ApplicationInput(scheme, provider, "high"), ValidationError, "level"),
        (acc.ApplicationInput("no-such", provider, "basic"), Exception, "scheme"),
        (acc.ApplicationInput(scheme, provider, "basic", "subsystem"), ValidationError, "subject"),
        (
            acc.ApplicationInput(scheme, provider, "basic", "subsystem", f"{provider}/nothing"),
            ValidationError,
            "subject",
        ),
        (
            acc.ApplicationInput(scheme, provider, "basic", "service", f"{other}/portal/x"),
            ValidationError,
            "subject",
        ),
        (acc.ApplicationInput(scheme, provider, "basic", "galaxy"), ValidationError, "scope"),
    ]
    for data, error, field in cases:
        with pytest.raises(error) as refused:
            await submit(data)
        assert refused.value.field == field, (data, refused.value)
    with pytest.raises(PermissionDeniedError):  # another member's key
        await submit(acc.ApplicationInput(scheme, provider, "basic"), actor=other_key)
    service_app = await submit(
        acc.ApplicationInput(scheme, provider, "basic", "service", f"{provider}/portal/lookup")
    )
    assert service_app.subject == f"{provider}/portal/lookup"
    on_behalf = await submit(acc.ApplicationInput(scheme, other, "basic"), actor=world.admin)
    assert on_behalf.member == other
    assert [
        a.identifier for a in await world.run(lambda s: acc.list_applications(s, actor=other_key))
    ] == [on_behalf.identifier]


async def test_the_member_withdraws_its_own_accreditation_and_a_retired_scheme_takes_no_more(
    world: World,
) -> None:
    scheme = await world.scheme()
    provider, applicant = await world.member("NGO")
    _, stranger = await world.member("COM")
    assessor = await world.assessor((await world.member("GOV"))[0])
    await world.authority(assessor, scheme)
    acc_id = await world.accredit(applicant, provider, scheme, assessor, at=T0 + H)
    with pytest.raises(PermissionDeniedError):
        await world.run(
            lambda s: acc.withdraw(s, acc_id, "not yours", actor=stranger, at=T0 + 2 * H)
        )
    with pytest.raises(PermissionDeniedError):  # the holder does not suspend itself
        await world.run(lambda s: acc.suspend(s, acc_id, "x", actor=applicant, at=T0 + 2 * H))
    await world.run(
        lambda s: acc.withdraw(s, acc_id, "we stop the service", actor=applicant, at=T0 + 2 * H)
    )
    await world.run(
        lambda s: acc.retire_scheme(s, scheme, "replaced by law", actor=world.admin, at=T0 + 3 * H)
    )
    with pytest.raises(ConflictError) as retired:
        await world.run(
            lambda s: acc.submit(
                s, acc.ApplicationInput(scheme, provider, "basic"), actor=applicant, at=T0 + 4 * H
            )
        )
    assert retired.value.field == "scheme" and "retired" in retired.value.detail
    index = await world.index(T0 + 4 * H)
    assert [holds(index, provider, t) for t in (1.5, 2.5)] == [True, False]
    assert "withdrawn" in index.authorize(provider, REQUIRED, T0 + 2.5 * H).message
    assert index.regulated("tax", "e-invoice-provider", T0 + 2.5 * H) is not None
    assert index.regulated("tax", "e-invoice-provider", T0 + 3.5 * H) is None
