"""The provider's registrations: the people it knows (imported from a JSON list or added one
by one, upserted by subject) and its registered clients (secrets made here, kept hashed). Also
the one reading of a person's identifier, which the sign-in form and the import share."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ValidationError
from zistboom.core.iran import (
    is_valid_national_code,
    validate_foreign_national_id,
    validate_mobile,
    validate_national_code,
)
from zistboom.core.persian import normalize_digits
from zistboom.idp import repository
from zistboom.idp.models import Client, User

Clock = Callable[[], datetime]
PERSON_PREFIX = "IR"
FOREIGN_PREFIX = "FN"
SECRET_BYTES = 32
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def secret_hash(secret: str) -> str:
    """The stored form of every secret the provider hands out: lowercase hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> tuple[str, str]:
    """A fresh 256-bit secret (URL-safe text) and its hash."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return secret, secret_hash(secret)


def same_hash(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def subject_of(identifier: str, *, field: str = "identifier") -> str:
    """The subject a person types or a file names: ``IR`` + a national code (its check digit
    checked) or ``FN`` + a foreign-national ID; a bare number is a national code when its
    check digit holds, else a foreign-national ID. Persian and Arabic-Indic digits count."""
    text = normalize_digits(identifier).strip().upper().replace(" ", "").replace("-", "")
    if text.startswith(PERSON_PREFIX):
        return PERSON_PREFIX + validate_national_code(text[2:], field=field)
    if text.startswith(FOREIGN_PREFIX):
        return FOREIGN_PREFIX + validate_foreign_national_id(text[2:], field=field)
    if len(text) == 10 and is_valid_national_code(text):
        return PERSON_PREFIX + text
    try:
        return FOREIGN_PREFIX + validate_foreign_national_id(text, field=field)
    except ValidationError:
        raise ValidationError(
            f"{identifier!r} is neither a national code (10 digits with a valid check digit) "
            "nor a foreign-national ID (6 to 16 digits)",
            field=field,
        ) from None


def kind_of(subject: str) -> str:
    return "person" if subject.startswith(PERSON_PREFIX) else "foreign-national"


Name = Annotated[str, Field(min_length=1, max_length=200)]


class UserRecord(BaseModel):
    """One person of ``zistboom idp user import`` (a JSON list of these) or ``user add``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str = Field(description="IR + national code, or FN + foreign-national ID")
    given_name_fa: Name
    family_name_fa: Name
    given_name_en: Name
    family_name_en: Name
    birthdate: date | None = None
    phone_number: str | None = Field(default=None, description="a mobile number, kept as +98…")
    email: str | None = None
    locale: Literal["fa", "en"] = "fa"

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        text = value.strip().upper()
        if not text.startswith((PERSON_PREFIX, FOREIGN_PREFIX)):
            raise ValueError("a subject starts with IR (national code) or FN (foreign national)")
        try:
            return subject_of(text, field="subject")
        except ValidationError as error:  # pydantic reports a ValueError with its location
            raise ValueError(error.detail) from None

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return "+98" + validate_mobile(value, field="phone_number")[1:]
        except ValidationError as error:
            raise ValueError(error.detail) from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


_USER_LIST = TypeAdapter(list[UserRecord])


def parse_users(text: str) -> list[UserRecord]:
    """A JSON list of people, each checked; any fault refuses the whole list."""
    try:
        records = _USER_LIST.validate_json(text)
    except PydanticValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationError(
            f"the users file is refused ({error.error_count()} problem(s)); first, at {where}: "
            f"{first['msg']}",
            field=where,
        ) from None
    seen: set[str] = set()
    for index, record in enumerate(records):
        if record.subject in seen:
            raise ValidationError(
                f"the users file names {record.subject} twice (again at {index})", field=str(index)
            )
        seen.add(record.subject)
    return records


async def upsert_users(
    session: AsyncSession, records: Sequence[UserRecord], clock: Clock
) -> tuple[int, int]:
    """Add or replace each person; (added, replaced)."""
    added = replaced = 0
    now = clock()
    for record in records:
        values = record.model_dump()
        existing = await repository.user(session, record.subject)
        if existing is None:
            session.add(User(**values, kind=kind_of(record.subject), updated_at=now))
            added += 1
            continue
        for name, value in values.items():
            setattr(existing, name, value)
        existing.updated_at = now
        replaced += 1
    await session.flush()
    return added, replaced


def _redirect_uri(uri: str, field: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ValidationError(
            f"{uri!r} is not an absolute http(s) URL without a fragment", field=field
        )
    return uri


async def register_client(
    session: AsyncSession,
    *,
    client_id: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str],
    name: str,
    rotate: bool,
    clock: Clock,
) -> str | None:
    """Create the client, or replace its URIs (and, with ``rotate``, its secret). Returns the
    new secret, or None when the client keeps its old one."""
    if not client_id or len(client_id) > 128 or not client_id.isprintable() or " " in client_id:
        raise ValidationError("a client id is 1 to 128 printable characters", field="client_id")
    if not redirect_uris:
        raise ValidationError("a client needs at least one redirect URI", field="redirect_uri")
    uris = [_redirect_uri(uri, "redirect_uri") for uri in redirect_uris]
    logouts = [_redirect_uri(uri, "post_logout_redirect_uri") for uri in post_logout_redirect_uris]
    existing = await repository.client(session, client_id)
    secret: str | None = None
    if existing is None or rotate:
        secret, hashed = new_secret()
    if existing is None:
        assert secret is not None
        session.add(
            Client(
                client_id=client_id,
                secret_hash=hashed,
                name=name or client_id,
                redirect_uris=uris,
                post_logout_redirect_uris=logouts,
                updated_at=clock(),
            )
        )
    else:
        existing.redirect_uris = uris
        existing.post_logout_redirect_uris = logouts
        existing.name = name or existing.name
        existing.updated_at = clock()
        if secret is not None:
            existing.secret_hash = hashed
    await session.flush()
    return secret
