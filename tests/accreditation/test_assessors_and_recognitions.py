"""Assessor delegation (bounded depth, withdrawal from a moment on, decisions kept), recognition
across ecosystems (acceptance 2 of issue 8, through ``TrustIndex`` on the built list), and
non-government providers accredited under the same rules as an agency; both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accreditation.world import T0, World
from zistboom.accreditation import service as acc
from zistboom.core.accreditation import Requirement
from zistboom.core.crypto import jws
from zistboom.core.errors import ConflictError, PermissionDeniedError, ValidationError
from zistboom.core.trustlist import TrustList

H = timedelta(hours=1)


async def test_delegation_is_bounded_and_withdrawal_stops_the_chain_from_then(
    world: World,
) -> None:
    scheme = await world.scheme()
    firms = [(await world.member("COM"))[0] for _ in range(4)]
    lead, deputy, junior, outsider = [await world.assessor(firm) for firm in firms]
    root = await world.authority(lead, scheme, depth=1, at=T0)

    def delegate(actor, parent: str, key: str, depth: int, hours: float):
        return world.run(
            lambda s: acc.delegate(
                s,
                parent,
                key_id=key,
                depth=depth,
                reason="workload",
                actor=actor,
                at=T0 + hours * H,
            )
        )

    with pytest.raises(ValidationError) as too_deep:
        await delegate(lead, root, deputy.key_id, 1, 1)
    assert too_deep.value.field == "depth" and "between 0 and 0" in too_deep.value.detail
    with pytest.raises(PermissionDeniedError):  # only the holder delegates its authority
        await delegate(outsider, root, deputy.key_id, 0, 1)
    second = (await delegate(lead, root, deputy.key_id, 0, 1)).identifier
    with pytest.raises(PermissionDeniedError) as depth_zero:
        await delegate(deputy, second, junior.key_id, 0, 1.5)
    assert "depth 0" in depth_zero.value.detail

    # The deputy decides an application at 3 h.
    provider, applicant = await world.member("GOV")
    acc_id = await world.accredit(applicant, provider, scheme, deputy, at=T0 + 2 * H)
    second_app, second_applicant = await world.member("NGO")
    pending = await world.run(
        lambda s: acc.submit(
            s,
            acc.ApplicationInput(scheme, second_app, "basic"),
            actor=second_applicant,
            at=T0 + 3 * H,
        )
    )

    # 4 h: the admin withdraws the lead's authority: the deputy's goes with it.
    withdrawn = await world.run(
        lambda s: acc.withdraw_authority(s, root, "left the firm", actor=world.admin, at=T0 + 4 * H)
    )
    assert [w.identifier for w in withdrawn] == [root, second]
    assert f"withdrawn with {root}" in withdrawn[1].events[-1].reason
    with pytest.raises(PermissionDeniedError) as stopped:
        await world.run(
            lambda s: acc.start_review(s, pending.identifier, actor=deputy, at=T0 + 5 * H)
        )
    assert "no current authority" in stopped.value.detail
    with pytest.raises(ConflictError):
        await world.run(
            lambda s: acc.withdraw_authority(s, second, "again", actor=world.admin, at=T0 + 5 * H)
        )

    # The decision made under it stays; the list tells the authority's history.
    index = await world.index(T0 + 5 * H)
    assert index.authorize(provider, Requirement("tax", "e-invoice-provider"), T0 + 5 * H).holds
    assert index.accreditation_ids[acc_id].history[-1].status == "granted"
    assert index.may_assess(firms[1], scheme, T0 + 3 * H).holds
    assert not index.may_assess(firms[1], scheme, T0 + 4 * H).holds
    assert not index.may_assess(firms[0], scheme, T0 + 4 * H).holds
    assert index.may_assess(firms[0], scheme, T0 + 3.9 * H).holds
    entries = {a.id: a for a in index.trust_list.assessors}
    assert entries[second].delegated_from == root and entries[second].depth == 0


async def test_a_recognition_counts_an_accreditation_in_another_ecosystem_until_revoked(
    world: World,
) -> None:
    scheme = await world.scheme("finance", "payment-facilitator")
    provider, applicant = await world.member("COM", subsystems=("psp",))
    assessor = await world.assessor((await world.member("GOV"))[0])
    await world.authority(assessor, scheme)
    await world.accredit(applicant, provider, scheme, assessor, level="high", at=T0 + H)
    trade = Requirement("cross-border-trade", "payment-facilitator", "substantial")
    trade_high = Requirement("cross-border-trade", "payment-facilitator", "high")
    terms = acc.RecognitionTerms(
        kinds=["payment-facilitator"],
        level_mapping={"high": "substantial", "substantial": "basic"},
        valid_until=T0 + timedelta(days=730),
    )

    with pytest.raises(ValidationError) as own:
        await world.run(
            lambda s: acc.create_recognition(
                s,
                ecosystem="finance",
                scheme=scheme,
                terms=terms,
                reason="x",
                instance="IR-DEMO",
                key=lambda: world.key,
                actor=world.admin,
                at=T0 + 2 * H,
            )
        )
    assert own.value.field == "ecosystem"
    recognition = await world.run(
        lambda s: acc.create_recognition(
            s,
            ecosystem="cross-border-trade",
            scheme=scheme,
            terms=terms,
            reason="the central bank's scheme is enough for customs payments",
            instance="IR-DEMO",
            key=lambda: world.key,
            actor=world.admin,
            at=T0 + 3 * H,
        )
    )
    rec_id = recognition.identifier
    index = await world.index(T0 + 3 * H)
    assert not index.authorize(provider, trade, T0 + 2.5 * H).holds
    answer = index.authorize(f"{provider}/psp", trade, T0 + 3.5 * H)
    assert answer.holds and answer.level == "substantial" and rec_id in answer.message
    assert not index.authorize(provider, trade_high, T0 + 3.5 * H).holds, (
        "mapped down to substantial"
    )
    assert index.recognize("cross-border-trade", scheme, "payment-facilitator", T0 + 3.5 * H).holds

    # The statement is central's signature over the version's terms.
    statement = recognition.versions[0].statement
    header, payload = jws.verify_jws(statement, world.key.public_key())
    assert header["typ"] == "zb-recognition+jws"
    assert b'"level_mapping":{"high":"substantial","substantial":"basic"}' in payload

    # Version 2 (high counts as high) replaces version 1 at 5 h; revoked at 7 h.
    better = acc.RecognitionTerms(
        kinds=["payment-facilitator"],
        level_mapping={"high": "high"},
        valid_until=T0 + timedelta(days=730),
    )
    await world.run(
        lambda s: acc.new_version(
            s,
            rec_id,
            better,
            "equivalent after review",
            instance="IR-DEMO",
            key=lambda: world.key,
            actor=world.admin,
            at=T0 + 5 * H,
        )
    )
    await world.run(
        lambda s: acc.revoke_recognition(
            s, rec_id, "the schemes diverged", actor=world.admin, at=T0 + 7 * H
        )
    )
    with pytest.raises(ConflictError):
        await world.run(
            lambda s: acc.revoke_recognition(s, rec_id, "again", actor=world.admin, at=T0 + 8 * H)
        )
    index = await world.index(T0 + 7 * H)
    assert [index.authorize(provider, trade_high, T0 + t * H).holds for t in (3.5, 5.5, 7.5)] == [
        False,
        True,
        False,
    ]
    assert [index.authorize(provider, trade, T0 + t * H).holds for t in (3.5, 5.5, 7.5)] == [
        True,
        True,
        False,
    ]
    revoked = index.authorize(provider, trade, T0 + 7.5 * H)
    assert "revoked" in revoked.message
    assert index.authorize(
        provider, Requirement("finance", "payment-facilitator", "high"), T0 + 7.5 * H
    ).holds, "the accreditation itself still holds"
    versions = [(r.version, [c.status for c in r.history]) for r in index.trust_list.recognitions]
    assert versions == [(1, ["granted", "revoked"]), (2, ["granted", "revoked"])]
    TrustList.model_validate_json(index.trust_list.canonical_json())  # the list is well formed


async def test_companies_and_ngos_are_accredited_under_the_same_rules_as_agencies(
    world: World,
) -> None:
    scheme = await world.scheme("health", "e-prescription-platform")
    assessor = await world.assessor((await world.member("PUB"))[0])
    await world.authority(assessor, scheme)
    providers = {}
    for number, member_class in enumerate(("GOV", "COM", "NGO")):
        provider, applicant = await world.member(member_class)
        providers[member_class] = provider
        await world.accredit(applicant, provider, scheme, assessor, at=T0 + number * H)
    index = await world.index(T0 + 4 * H)
    requirement = Requirement("health", "e-prescription-platform", "substantial")
    for member_class, provider in providers.items():
        answer = index.authorize(provider, requirement, T0 + 4 * H)
        assert answer.holds, (member_class, answer.message)
        assert answer.level == "substantial"
    unaccredited, _ = await world.member("COM")
    assert not index.authorize(unaccredited, requirement, T0 + 4 * H).holds
