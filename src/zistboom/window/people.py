"""The people who sign in at the window: their profile made at first sign-in from the identity
provider's claims, their names read from their registry with their consent (or their choice not
to), and their contact addresses, which they may change and which notices go to."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import NotFoundError, ValidationError
from zistboom.core.iran import validate_foreign_national_id, validate_mobile, validate_national_code
from zistboom.core.persian import normalize_digits
from zistboom.window import identity_repository as repository
from zistboom.window.identity_models import Consent, Person
from zistboom.window.names_reading import ITEMS, PURPOSE, NamesRead, Source

# An address of the shape RFC 5322 allows in practice (one @, a dot in the domain, no spaces).
_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$")
MAX_EMAIL: Final = 254


def parse_subject(text: str, *, field: str = "subject") -> str:
    """A person's subject from what someone typed: ``IR`` + national code, ``FN`` + foreign
    national ID, or a bare national code (Persian digits and spaces allowed)."""
    cleaned = normalize_digits(text).strip().replace(" ", "").upper()
    if cleaned.startswith("FN"):
        return "FN" + validate_foreign_national_id(cleaned[2:], field=field)
    if cleaned.startswith("IR"):
        cleaned = cleaned[2:]
    return "IR" + validate_national_code(cleaned, field=field)


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    address = value.strip()
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise ValidationError(f"{address!r} is not an e-mail address", field="email")
    return address


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return validate_mobile(normalize_digits(value), field="phone_number")


async def signed_in(
    session: AsyncSession, *, subject: str, claims: dict[str, Any], now: datetime
) -> Person:
    """The person of a completed sign-in: made at the first one from the provider's claims;
    later sign-ins refresh only the provider's name (the person's own edits are kept)."""
    parse_subject(subject)  # a provider naming subjects some other way is refused here
    person = await repository.person(session, subject)
    name = claims.get("name")
    provider_name = str(name)[:200] if isinstance(name, str) and name.strip() else None
    if person is None:
        person = Person(
            subject=subject,
            provider_name=provider_name,
            email=_safe(_email, claims.get("email")),
            phone_number=_safe(_phone, claims.get("phone_number")),
            locale="en" if str(claims.get("locale", "")).startswith("en") else "fa",
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        await session.flush()
    elif provider_name and person.provider_name != provider_name:
        person.provider_name = provider_name
        person.updated_at = now
    return person


def _safe(parse: Any, value: object) -> str | None:
    """A claim kept only when it is of the shape the window can use for notices."""
    if not isinstance(value, str):
        return None
    try:
        result: str | None = parse(value)
    except ValidationError:
        return None
    return result


async def _person(session: AsyncSession, subject: str) -> Person:
    person = await repository.person(session, subject)
    if person is None:
        raise NotFoundError(f"no profile for {subject}", field="subject")
    return person


def _consent(subject: str, source: Source, choice: str, now: datetime) -> Consent:
    return Consent(
        subject=subject,
        purpose=PURPOSE,
        items=list(ITEMS),
        sources=[str(source.service)],
        choice=choice,
        at=now,
    )


async def record_names(session: AsyncSession, subject: str, read: NamesRead) -> Person:
    """Keep the names read from the registry, with where and when they came from."""
    person = await _person(session, subject)
    names = read.names
    person.given_name_fa, person.family_name_fa = names.given_name_fa, names.family_name_fa
    person.given_name_en, person.family_name_en = names.given_name_en, names.family_name_en
    person.names_source = str(read.source.service)
    person.names_read_at = read.at
    person.names_message_id = read.message_id
    person.names_choice = "given"
    person.updated_at = read.at
    session.add(_consent(subject, read.source, "given", read.at))
    return person


async def decline_names(
    session: AsyncSession, subject: str, source: Source, now: datetime
) -> Person:
    """The person chose not to have their names read: nothing is read, the choice is kept."""
    person = await _person(session, subject)
    person.names_choice = "declined"
    person.updated_at = now
    session.add(_consent(subject, source, "declined", now))
    return person


async def update_contacts(
    session: AsyncSession,
    subject: str,
    *,
    email: str | None,
    phone_number: str | None,
    now: datetime,
) -> Person:
    """Change where notices go; an empty value removes the address."""
    person = await _person(session, subject)
    person.email = _email(email)
    person.phone_number = _phone(phone_number)
    person.updated_at = now
    return person
