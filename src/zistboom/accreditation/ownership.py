"""Ecosystem operators' ownership: each ecosystem's operating company is a member whose
shareholding central reads from the legal-entities registry through the exchange (never typed
in), on demand and daily; every reading is kept with its source, message id and time, and the
rule that private holders own at least the programme's minimum (51 %) is checked on each one.

A failed read is recorded as a failed reading with the exchange's error and replaces nothing: the
operator's standing, and its findings, rest on its newest good reading.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.accreditation import ownership_repository as repository
from zistboom.accreditation.ownership_exchange import (
    SCHEDULED_USER,
    CompaniesRegistryClient,
    Outcome,
    Shareholding,
)
from zistboom.accreditation.ownership_models import OwnershipReading
from zistboom.central import audit, service
from zistboom.central.models import Ecosystem, Member
from zistboom.central.operators import Operator
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction, utc_now
from zistboom.core.errors import ConflictError, ZistboomError
from zistboom.core.persian import format_jalali, to_persian_digits

log = logging.getLogger("zistboom.accreditation.ownership")
READERS = ("admin", "registrar", "auditor")
REFRESHERS = ("admin", "registrar")
BELOW_MINIMUM = "operator-private-share-below-minimum"
TEHRAN = ZoneInfo("Asia/Tehran")
Trigger = Literal["on-demand", "scheduled"]

# The finding's words (English and Persian), filled with its figures.
FINDING_EN = (
    "{operator}, the operator of the {ecosystem} ecosystem, is {private}% privately held ({state}% "
    "by the state), below the minimum of {minimum}%: read from registry {code} {version} "
    "({service}) in message {message_id} at {at}"
)
FINDING_FA = (
    "سهم بخش خصوصی در {operator}، بهره‌بردار زیست‌بوم {ecosystem}، {private} درصد است "
    "(سهم دولتی {state} درصد) و از حداقل {minimum} درصد کمتر است؛ خوانده‌شده از پایگاه "
    "{code} نسخه {version} ({service}) در پیام {message_id}، {at_fa}"
)


class ExchangeNotConfigured(ZistboomError):
    """Central has no exchange client settings, so it cannot read ownership now."""

    status = 503
    code = "exchange-not-configured"
    title = "Exchange not configured"


def minimum_private_share() -> Decimal:
    """The programme's rule (ecosystems.yaml shipped with central): at least this many percent
    of an operator's shares are held privately."""
    facts = service.programme_facts()["programme"]
    return Decimal(str(facts["minimum_private_share_percent"]))


@dataclass(frozen=True, slots=True)
class Finding:
    """A broken ownership rule, with the figures and where and when they were read."""

    kind: str
    ecosystem: Ecosystem
    operator: str
    private_share_percent: Decimal
    state_share_percent: Decimal
    minimum_private_share_percent: Decimal
    reading: OwnershipReading

    @property
    def message(self) -> str:
        return FINDING_EN.format(
            **self._names(),
            **self._figures(),
            ecosystem=self.ecosystem.name_en,
            at=self.reading.at.isoformat(),
        )

    @property
    def message_fa(self) -> str:
        at_fa = format_jalali(self.reading.at.astimezone(TEHRAN), with_time=True)
        figures = {k: to_persian_digits(v) for k, v in self._figures().items()}
        return FINDING_FA.format(
            **self._names(), **figures, ecosystem=self.ecosystem.name_fa, at_fa=at_fa
        )

    def _names(self) -> dict[str, str]:
        return {
            "operator": self.operator,
            "code": self.reading.registry_code,
            "service": self.reading.registry_service,
            "message_id": self.reading.message_id or "-",
        }

    def _figures(self) -> dict[str, str]:
        return {
            "private": _percent(self.private_share_percent),
            "state": _percent(self.state_share_percent),
            "minimum": _percent(self.minimum_private_share_percent),
            "version": self.reading.registry_version,
        }


def _percent(value: Decimal) -> str:
    return format(value.normalize(), "f")


def findings_of(reading: OwnershipReading | None, ecosystem: Ecosystem) -> list[Finding]:
    """What a good reading shows broken (nothing for a failed one or a compliant operator)."""
    if reading is None or reading.outcome != "ok" or reading.compliant is not False:
        return []
    assert reading.private_share_percent is not None
    assert reading.state_share_percent is not None
    return [
        Finding(
            kind=BELOW_MINIMUM,
            ecosystem=ecosystem,
            operator=reading.operator_id,
            private_share_percent=reading.private_share_percent,
            state_share_percent=reading.state_share_percent,
            minimum_private_share_percent=reading.minimum_private_share_percent,
            reading=reading,
        )
    ]


@dataclass(frozen=True, slots=True)
class Standing:
    """An ecosystem's operator as central knows it now: its newest good reading (the one the
    rule is checked on), its newest attempt (which may have failed) and the findings."""

    ecosystem: Ecosystem
    operator: Member | None
    reading: OwnershipReading | None
    last_attempt: OwnershipReading | None

    @property
    def findings(self) -> list[Finding]:
        return findings_of(self.reading, self.ecosystem)


# --- reading the standings -------------------------------------------------------------------


async def standings(session: AsyncSession, *, actor: Operator) -> list[Standing]:
    actor.require(*READERS)
    ecosystems = await service.list_ecosystems(session)
    operators = await service.ecosystem_operators(session)
    pairs = [(key, member.identifier) for key, member in operators.items()]
    good = await repository.newest_readings(session, pairs, good_only=True)
    newest = await repository.newest_readings(session, pairs, good_only=False)
    return [
        Standing(e, operators.get(e.key), good.get(e.key), newest.get(e.key)) for e in ecosystems
    ]


async def standing(session: AsyncSession, key: str, *, actor: Operator) -> Standing:
    actor.require(*READERS)
    ecosystem = await service.get_ecosystem(session, key)
    operator = (await service.ecosystem_operators(session)).get(key)
    if operator is None:
        return Standing(ecosystem, None, None, None)
    good = await repository.newest_reading(session, key, operator.identifier, good_only=True)
    newest = await repository.newest_reading(session, key, operator.identifier, good_only=False)
    return Standing(ecosystem, operator, good, newest)


async def findings(session: AsyncSession, *, actor: Operator) -> list[Finding]:
    return [f for s in await standings(session, actor=actor) for f in s.findings]


async def readings(
    session: AsyncSession, key: str, *, before_id: int | None, limit: int, actor: Operator
) -> list[OwnershipReading]:
    """An ecosystem's readings, newest first (those of earlier operators too)."""
    actor.require(*READERS)
    await service.get_ecosystem(session, key)
    return await repository.list_readings(session, key, before_id=before_id, limit=limit)


async def set_operator(
    session: AsyncSession,
    key: str,
    member_id: str | None,
    *,
    reason: str | None = None,
    actor: Operator,
) -> Standing:
    """Name (``member_id``) or clear (None) the ecosystem's operating company."""
    actor.require(*REFRESHERS)
    ecosystem = await service.get_ecosystem(session, key)
    member = (
        await service.member_by_id(session, member_id, field="member_id") if member_id else None
    )
    await service.set_ecosystem_operator(session, ecosystem, member, reason=reason, actor=actor)
    return await standing(session, key, actor=actor)


# --- recording a reading ---------------------------------------------------------------------


async def record(
    session: AsyncSession,
    ecosystem: str,
    operator: Member,
    outcome: Outcome,
    *,
    trigger: Trigger,
    actor: str,
) -> OwnershipReading:
    """Keep one reading (good or failed) of ``operator`` and its audit record, in the caller's
    transaction."""
    call = outcome.call
    reading = OwnershipReading(
        ecosystem=ecosystem,
        operator_id=operator.identifier,
        trigger=trigger,
        requested_by=call.user_id,
        purpose=call.purpose,
        client=call.client,
        registry_service=str(call.source.service),
        registry_code=call.source.code,
        registry_version=call.source.version,
        message_id=outcome.message_id,
        at=outcome.at,
        minimum_private_share_percent=minimum_private_share(),
    )
    if isinstance(outcome, Shareholding):
        reading.outcome = "ok"
        reading.private_share_percent = outcome.private_share
        reading.state_share_percent = outcome.state_share
        reading.holders = [
            {**h.model_dump(), "share_percent": float(h.share_percent)} for h in outcome.holders
        ]
    else:
        reading.outcome = "failed"
        reading.error_type = outcome.error_type
        reading.error_message = outcome.message
        reading.http_status = outcome.http_status
    await repository.add_reading(session, reading)
    await audit.append(
        session,
        actor=actor,
        action="ecosystem-operator.ownership-read",
        target=f"ecosystem:{ecosystem}",
        details={
            "operator": reading.operator_id,
            "outcome": reading.outcome,
            "trigger": trigger,
            "message_id": reading.message_id,
            "private_share_percent": _text(reading.private_share_percent),
            "compliant": reading.compliant,
            "error_type": reading.error_type,
        },
    )
    return reading


def _text(value: Decimal | None) -> str | None:
    return None if value is None else _percent(value)


# --- refreshing: on demand and on schedule ---------------------------------------------------


class OwnershipChecker:
    """Reads operators' shareholding through the exchange and records each reading. Central's
    lifespan runs :meth:`run` (the daily refresh); :meth:`refresh_due` is its one pass, callable
    on its own."""

    def __init__(
        self,
        settings: CentralSettings,
        sessions: async_sessionmaker[AsyncSession],
        registry: CompaniesRegistryClient | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.registry = registry

    @classmethod
    def from_settings(
        cls, settings: CentralSettings, sessions: async_sessionmaker[AsyncSession]
    ) -> OwnershipChecker:
        """A checker with an exchange client when the settings name one, else without."""
        registry = CompaniesRegistryClient(settings) if settings.exchange_gateway_url else None
        return cls(settings, sessions, registry)

    async def close(self) -> None:
        if self.registry is not None:
            await self.registry.close()

    def _registry(self) -> CompaniesRegistryClient:
        if self.registry is None:
            raise ExchangeNotConfigured(
                "central has no exchange client: set ZB_EXCHANGE_GATEWAY_URL, "
                "ZB_EXCHANGE_CLIENT and ZB_COMPANIES_REGISTRY_SERVICE, then restart it"
            )
        return self.registry

    async def refresh(self, key: str, *, actor: Operator) -> tuple[OwnershipReading, Standing]:
        """Read the operator's shareholding now, on behalf of ``actor``."""
        actor.require(*REFRESHERS)
        async with transaction(self.sessions) as session:
            ecosystem = await service.get_ecosystem(session, key)
            operator = (await service.ecosystem_operators(session)).get(key)
        if operator is None:
            raise ConflictError(
                f"ecosystem {ecosystem.key} has no operator: name its operating company first",
                field="ecosystem",
            )
        outcome = await self._registry().read(operator.code, user_id=actor.actor)
        async with transaction(self.sessions) as session:
            reading = await record(
                session, key, operator, outcome, trigger="on-demand", actor=actor.actor
            )
            return reading, await standing(session, key, actor=actor)

    async def refresh_due(self, now: datetime | None = None) -> list[OwnershipReading]:
        """One pass of the daily refresh: read every operator with no good reading in the last
        ``ownership_refresh_seconds``. One whose last attempt failed (the registry or a gateway
        was down) is thus tried again at the next pass, every ``ownership_check_seconds``."""
        registry = self._registry()
        now = now or utc_now()
        age = timedelta(seconds=self.settings.ownership_refresh_seconds)
        async with transaction(self.sessions) as session:
            operators = await service.ecosystem_operators(session)
            attempts = await repository.last_good_readings(session)
        due = [
            (key, member)
            for key, member in sorted(operators.items())
            if (last := attempts.get((key, member.identifier))) is None or now - last >= age
        ]
        recorded = []
        for key, member in due:
            outcome = await registry.read(member.code, user_id=SCHEDULED_USER)
            async with transaction(self.sessions) as session:
                recorded.append(
                    await record(
                        session, key, member, outcome, trigger="scheduled", actor=SCHEDULED_USER
                    )
                )
        return recorded

    async def run(self) -> None:
        """The daily refresh, until cancelled: a pass now, then every ``ownership_check_seconds``
        (a pass reads only the operators that are due)."""
        if self.registry is None:
            log.info("no exchange client configured: ecosystem operators' ownership is not read")
            return
        while True:
            try:
                for reading in await self.refresh_due():
                    if reading.outcome != "ok":
                        log.warning(
                            "ownership of %s (%s) not read: %s %s", reading.operator_id,
                            reading.ecosystem, reading.error_type, reading.error_message,
                        )  # fmt: skip
                    elif reading.compliant is False:
                        log.warning(
                            "%s (%s) is %s%% privately held, below the minimum, in message %s",
                            reading.operator_id, reading.ecosystem,
                            reading.private_share_percent, reading.message_id,
                        )  # fmt: skip
            except Exception:
                # A database outage must not end the daily refresh: the next pass tries again.
                log.exception("the scheduled ownership refresh failed")
            await asyncio.sleep(self.settings.ownership_check_seconds)
