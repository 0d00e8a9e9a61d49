"""The accreditation tests' world: central's database prepared on one backend, with members,
keys, schemes and accreditations made through the real services, and the trust list built from
the tables at a chosen moment."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.accreditation import service as acc
from zistboom.central import operators
from zistboom.central import service as central
from zistboom.central.settings import CentralSettings
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto import keys
from zistboom.core.database import transaction
from zistboom.core.iran import generate_legal_entity_id

T = TypeVar("T")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
"""The start of every test's own timeline (all changes are dated explicitly)."""
rng = random.Random()

KINDS = {"GOV": "agency", "COM": "company", "NGO": "public-body", "PUB": "public-body"}


@dataclass
class World:
    settings: CentralSettings
    sessions: async_sessionmaker[AsyncSession]
    key: keys.PrivateKey
    """The key recognitions are signed with (central's trust-list key, in production)."""
    sequence: int = 0

    admin = operators.SYSTEM

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with transaction(self.sessions) as session:
            return await work(session)

    async def member(
        self, member_class: str = "GOV", subsystems: Sequence[str] = ("portal",)
    ) -> tuple[str, operators.Operator]:
        """A registered member with its subsystems, and a member-scoped key for it."""

        async def work(session: AsyncSession) -> tuple[str, operators.Operator]:
            member = await central.register_member(
                session,
                self.settings.instance,
                central.MemberInput(
                    member_class=member_class,
                    code=generate_legal_entity_id(rng),
                    name_fa="عضو آزمایشی",
                    name_en=f"Test {member_class} member",
                    kind=KINDS[member_class],
                ),
                actor=self.admin,
            )
            for code in subsystems:
                await central.add_subsystem(session, member, code, actor=self.admin)
            _, secret = await operators.create_api_key(
                session, name="applicant", role="member", member=member, actor=self.admin
            )
            return member.identifier, await operators.authenticate(session, secret)

        return await self.run(work)

    async def assessor(self, member_id: str) -> operators.Operator:
        """An assessor key naming ``member_id`` as its employer."""

        async def work(session: AsyncSession) -> operators.Operator:
            member = await central.member_by_id(session, member_id, field="member")
            _, secret = await operators.create_api_key(
                session, name="assessor", role="assessor", member=member, actor=self.admin
            )
            return await operators.authenticate(session, secret)

        return await self.run(work)

    async def scheme(
        self,
        ecosystem: str = "tax",
        kind: str = "e-invoice-provider",
        *,
        levels: Sequence[str] = ("basic", "substantial", "high"),
        validity_days: int = 365,
        at: datetime = T0,
    ) -> str:
        data = acc.SchemeInput(
            ecosystem=ecosystem,
            kind=kind,
            name_fa="طرح آزمایشی",
            name_en="Test scheme",
            description_fa="برای آزمون",
            description_en="For the tests",
            validity_days=validity_days,
            levels=levels,
            criteria=[
                acc.CriterionInput("security", "امنیت", "Security", "an ISMS certificate"),
                acc.CriterionInput("continuity", "تداوم", "Continuity", "a continuity plan"),
            ],
        )
        scheme = await self.run(lambda s: acc.create_scheme(s, data, actor=self.admin, at=at))
        return scheme.code

    async def authority(
        self, assessor: operators.Operator, scheme: str, *, depth: int = 0, at: datetime = T0
    ) -> str:
        row = await self.run(
            lambda s: acc.grant_authority(
                s,
                key_id=assessor.key_id,
                scheme=scheme,
                depth=depth,
                reason="trained and appointed",
                actor=self.admin,
                at=at,
            )
        )
        return row.identifier

    async def accredit(
        self,
        applicant: operators.Operator,
        member_id: str,
        scheme: str,
        assessor: operators.Operator,
        *,
        level: str = "substantial",
        scope: str = "member",
        subject: str | None = None,
        at: datetime,
    ) -> str:
        """Submission to grant in one go, a minute per step from ``at``; the accreditation."""

        async def work(session: AsyncSession) -> str:
            step = iter(range(100))

            def when() -> datetime:
                return at + timedelta(minutes=next(step))

            app = await acc.submit(
                session,
                acc.ApplicationInput(scheme, member_id, level, scope, subject, "we apply"),
                actor=applicant,
                at=when(),
            )
            for criterion in ("security", "continuity"):
                await acc.attach_evidence(
                    session,
                    app.identifier,
                    criterion=criterion,
                    filename=f"{criterion}.pdf",
                    media_type="application/pdf",
                    content=f"%PDF- {criterion}".encode(),
                    actor=applicant,
                    at=when(),
                )
            await acc.start_review(session, app.identifier, actor=assessor, at=when())
            for criterion in ("security", "continuity"):
                await acc.review_criterion(
                    session, app.identifier, criterion, "met", "", actor=assessor, at=when()
                )
            decision = await acc.decide(
                session,
                app.identifier,
                acc.DecisionInput("granted", "every criterion is met"),
                actor=assessor,
                at=when(),
            )
            assert decision.accreditation_id is not None
            return f"acc-{decision.accreditation_id}"

        return await self.run(work)

    async def index(self, issued_at: datetime) -> TrustIndex:
        """The trust list as it would be published at ``issued_at``, arranged for checks."""
        self.sequence += 1
        content = await self.run(
            lambda s: acc.build_trust_list_content(
                s,
                instance=self.settings.instance,
                issued_at=issued_at,
                next_update=issued_at + timedelta(days=1),
                sequence=self.sequence,
            )
        )
        return TrustIndex(content)
