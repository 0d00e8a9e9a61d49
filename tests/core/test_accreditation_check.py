"""The one accreditation check (``core/accreditation.py``) over a trust list built in the test:
status at a time from the history, expiry with nothing run, the scope rule, levels, and
recognition at the mapped level while both it and the accreditation hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.trustlist import FORMAT, TrustList

COMPANY = "IR-DEMO/COM/10101010101"
NGO = "IR-DEMO/NGO/14000000011"
OTHER = "IR-DEMO/COM/10202020202"
T = datetime(2026, 11, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T + timedelta(days=days)


def iso(days: float) -> str:
    return at(days).isoformat().replace("+00:00", "Z")


def scheme(ecosystem: str, kind: str, actions: tuple[str, ...] = ("provide",)) -> dict[str, Any]:
    return {
        "code": f"{ecosystem}-{kind}",
        "ecosystem": ecosystem,
        "kind": kind,
        "actions": list(actions),
        "levels": ["basic", "substantial", "high"],
        "name_fa": "طرح",
        "name_en": "Scheme",
        "history": [{"status": "active", "at": iso(0)}],
    }


def accreditation(
    id: str,
    member: str,
    *,
    scheme: str = "tax-e-invoice-provider",
    scope: str = "member",
    subject: str | None = None,
    level: str = "substantial",
    until: float = 365,
    history: list[tuple[str, float]] | None = None,
) -> dict[str, Any]:
    return {
        "id": id,
        "scheme": scheme,
        "member": member,
        "scope": scope,
        "subject": subject or member,
        "level": level,
        "valid_from": iso(10),
        "valid_until": iso(until),
        "history": [
            {"status": status, "at": iso(day), "reason": f"{status} on day {day}"}
            for status, day in (history or [("granted", 10)])
        ],
    }


def index(**changes: Any) -> TrustIndex:
    document: dict[str, Any] = {
        "format": FORMAT,
        "instance": "IR-DEMO",
        "sequence": 1,
        "issued_at": iso(50),
        "next_update": iso(51),
        "schemes": [
            scheme("tax", "e-invoice-provider"),
            scheme("finance", "payment-facilitator", ("provide", "issue")),
        ],
        "accreditations": [],
        "recognitions": [],
        "assessors": [],
    }
    document.update(changes)
    return TrustIndex(TrustList.model_validate(document))


E_INVOICE = Requirement("tax", "e-invoice-provider")


def test_the_answer_follows_the_history_and_expires_on_its_own() -> None:
    trust = index(
        accreditations=[
            accreditation(
                "acc-1",
                COMPANY,
                until=40,
                history=[("granted", 10), ("suspended", 20), ("reinstated", 25), ("revoked", 30)],
            )
        ]
    )
    answers = {day: trust.authorize(COMPANY, E_INVOICE, at(day)) for day in (5, 15, 22, 27, 35)}
    assert [answers[d].holds for d in (5, 15, 22, 27, 35)] == [False, True, False, True, False]
    assert "suspended" in answers[22].message and "suspended on day 20" in answers[22].message
    assert "revoked" in answers[35].message
    assert answers[15].records[1]["id"] == "acc-1" and answers[15].level == "substantial"

    lapsing = index(accreditations=[accreditation("acc-2", COMPANY, until=40)])
    assert lapsing.authorize(COMPANY, E_INVOICE, at(39)).holds
    expired = lapsing.authorize(COMPANY, E_INVOICE, at(40))
    assert not expired.holds and "expired" in expired.message


def test_the_scope_rule() -> None:
    trust = index(
        accreditations=[
            accreditation("acc-1", COMPANY),
            accreditation("acc-2", OTHER, scope="subsystem", subject=f"{OTHER}/invoicing"),
            accreditation("acc-3", NGO, scope="service", subject=f"{NGO}/portal/issue"),
        ]
    )
    now = at(11)
    assert trust.authorize(f"{COMPANY}/any/service", E_INVOICE, now).holds
    assert trust.authorize(f"{OTHER}/invoicing", E_INVOICE, now).holds
    assert trust.authorize(f"{OTHER}/invoicing/send", E_INVOICE, now).holds
    assert not trust.authorize(OTHER, E_INVOICE, now).holds
    assert not trust.authorize(f"{OTHER}/invoicing-two", E_INVOICE, now).holds
    assert trust.authorize(f"{NGO}/portal/issue", E_INVOICE, now).holds
    assert not trust.authorize(f"{NGO}/portal", E_INVOICE, now).holds
    assert not trust.authorize(f"{NGO}/portal/issue-2", E_INVOICE, now).holds


def test_levels_actions_and_unregulated_kinds() -> None:
    trust = index(accreditations=[accreditation("acc-1", COMPANY, level="substantial")])
    now = at(11)
    assert trust.authorize(COMPANY, Requirement("tax", "e-invoice-provider", "basic"), now).holds
    high = trust.authorize(COMPANY, Requirement("tax", "e-invoice-provider", "high"), now)
    assert not high.holds and "below the required high" in high.message
    issuing = trust.authorize(
        COMPANY, Requirement("tax", "e-invoice-provider", action="issue"), now
    )
    assert not issuing.holds
    nothing = trust.authorize(COMPANY, Requirement("tax", "tax-advisor"), now)
    assert not nothing.holds and "no scheme covers tax:tax-advisor" in nothing.message
    assert trust.regulated("tax", "e-invoice-provider", now) is not None
    assert trust.regulated("tax", "tax-advisor", now) is None
    assert trust.regulated("tax", "e-invoice-provider", at(-1)) is None


def recognition(
    version: int, history: list[tuple[str, float]], mapping: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": "rec-1",
        "version": version,
        "ecosystem": "cross-border-trade",
        "scheme": "finance-payment-facilitator",
        "kinds": ["payment-facilitator"],
        "level_mapping": mapping,
        "valid_from": iso(0),
        "valid_until": iso(200),
        "history": [{"status": s, "at": iso(d)} for s, d in history],
        "statement": "x.y.z",
    }


def test_recognition_counts_at_the_mapped_level_while_it_holds() -> None:
    trust = index(
        accreditations=[
            accreditation("acc-1", COMPANY, scheme="finance-payment-facilitator", level="high")
        ],
        recognitions=[
            recognition(1, [("granted", 12), ("revoked", 30)], {"high": "substantial"}),
            recognition(2, [("granted", 30), ("revoked", 40)], {"high": "basic"}),
        ],
    )
    substantial = Requirement("cross-border-trade", "payment-facilitator", "substantial")
    assert not trust.authorize(COMPANY, substantial, at(11)).holds  # before the recognition
    yes = trust.authorize(COMPANY, substantial, at(20))
    assert yes.holds and yes.level == "substantial" and "recognises as substantial" in yes.message
    assert [r["type"] for r in yes.records] == ["scheme", "accreditation", "recognition"]
    # Version 2 maps high to basic only: a substantial requirement fails, basic holds.
    assert not trust.authorize(COMPANY, substantial, at(35)).holds
    basic = Requirement("cross-border-trade", "payment-facilitator", "basic")
    assert trust.authorize(COMPANY, basic, at(35)).holds
    # Revoked: undone from then, and an earlier time still answers yes.
    gone = trust.authorize(COMPANY, basic, at(45))
    assert not gone.holds and "revoked" in gone.message
    assert trust.authorize(COMPANY, basic, at(35)).holds

    assert trust.recognize(
        "cross-border-trade", "finance-payment-facilitator", "payment-facilitator", at(20)
    ).holds
    later = trust.recognize(
        "cross-border-trade", "finance-payment-facilitator", "payment-facilitator", at(45)
    )
    assert not later.holds and "revoked" in later.message
    never = trust.recognize("tax", "finance-payment-facilitator", "payment-facilitator", at(20))
    assert not never.holds and "never recognised" in never.message


def test_assessor_authority_at_a_time() -> None:
    trust = index(
        assessors=[
            {
                "id": "asr-1",
                "member": OTHER,
                "scheme": "tax-e-invoice-provider",
                "depth": 1,
                "delegated_from": None,
                "history": [
                    {"status": "granted", "at": iso(1)},
                    {"status": "withdrawn", "at": iso(9)},
                ],
            }
        ]
    )
    assert trust.may_assess(OTHER, "tax-e-invoice-provider", at(5)).holds
    assert not trust.may_assess(OTHER, "tax-e-invoice-provider", at(10)).holds
    assert not trust.may_assess(COMPANY, "tax-e-invoice-provider", at(5)).holds


@pytest.mark.parametrize("day", [5, 15])
def test_a_scheme_not_yet_in_force_or_retired_grants_nothing(day: float) -> None:
    retired = {
        **scheme("tax", "e-invoice-provider"),
        "history": [{"status": "active", "at": iso(8)}, {"status": "retired", "at": iso(12)}],
    }
    trust = index(
        schemes=[retired, scheme("finance", "payment-facilitator")],
        accreditations=[accreditation("acc-1", COMPANY)],
    )
    assert not trust.authorize(COMPANY, E_INVOICE, at(day)).holds
    assert trust.authorize(COMPANY, E_INVOICE, at(11)).holds
