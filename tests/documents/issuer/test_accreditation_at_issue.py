"""The issuer's accreditation rule, checked now and again at the timestamp's genTime: a trust
list whose history revokes the agency's accreditation between the two refuses the second
check, naming the requirement; a type of another ecosystem is refused naming that one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trust_list_central import Content, accreditation, change, scheme
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.errors import IssuerNotAccreditedError
from zistboom.documents.issuer.hub import requirement_of
from zistboom.documents.issuer.issuance import require_accreditation
from zistboom.documents.types import load_seed_types

AGENCY = "IR-TEST/GOV/10380284790"
GRANTED = datetime(2026, 1, 1, tzinfo=UTC)
REVOKED = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
BIRTH = next(t for t in load_seed_types() if t.code == "birth-certificate-extract")


def index() -> TrustIndex:
    national = scheme("national", "document-issuer", since=GRANTED, actions=("issue",))
    content = Content(
        schemes=[national],
        accreditations=[
            accreditation(
                1,
                national.code,
                AGENCY,
                level="high",
                changes=[change("granted", GRANTED), change("revoked", REVOKED, "audit failed")],
                valid_until=GRANTED + timedelta(days=730),
            )
        ],
    )
    trust_list = content.trust_list(
        instance="IR-TEST",
        issued_at=REVOKED + timedelta(hours=1),
        next_update=REVOKED + timedelta(days=1),
        sequence=7,
    )
    return TrustIndex(trust_list)


def test_the_type_needs_an_accreditation_to_issue_its_kind() -> None:
    assert requirement_of(BIRTH) == Requirement("national", "document-issuer", "high", "issue")


def test_accredited_before_the_revocation_refused_after_it() -> None:
    trust = index()
    requirement = requirement_of(BIRTH)
    require_accreditation(trust, AGENCY, requirement, REVOKED - timedelta(seconds=1), when="now")
    with pytest.raises(IssuerNotAccreditedError) as refused:
        require_accreditation(
            trust, AGENCY, requirement, REVOKED + timedelta(seconds=1), when="at the time of issue"
        )
    problem = refused.value.to_problem()
    assert problem["status"] == 403
    assert problem["type"].endswith("/issuer-not-accredited")
    assert problem["requirement"] == "national:document-issuer"
    assert problem["level"] == "high"
    assert "at the time of issue" in problem["detail"]
    assert "revoked" in problem["detail"]


def test_another_ecosystem_or_another_member_does_not_count() -> None:
    trust = index()
    before = REVOKED - timedelta(days=1)
    tax = next(t for t in load_seed_types() if t.code == "tax-clearance")
    with pytest.raises(IssuerNotAccreditedError, match="tax:document-issuer"):
        require_accreditation(trust, AGENCY, requirement_of(tax), before, when="now")
    with pytest.raises(IssuerNotAccreditedError):
        require_accreditation(trust, "IR-TEST/GOV/14000000009", requirement_of(BIRTH), before,
                              when="now")  # fmt: skip
