"""The schemes a fresh instance starts with: one or two for each of the programme's thirteen
ecosystems (``seed_schemes.yaml``), published by central itself. Seeding is idempotent: a scheme
whose code exists is left as it is (its history is its own)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import repository, schemes
from zistboom.central.operators import SYSTEM


@cache
def seeded_schemes() -> tuple[schemes.SchemeInput, ...]:
    """The seed file's schemes, as inputs to :func:`schemes.create_scheme`."""
    text = (
        resources.files("zistboom.accreditation").joinpath("seed_schemes.yaml").read_text("utf-8")
    )
    document: dict[str, Any] = yaml.safe_load(text)
    return tuple(
        schemes.SchemeInput(
            ecosystem=entry["ecosystem"],
            kind=entry["kind"],
            code=entry.get("code"),
            name_fa=entry["name_fa"],
            name_en=entry["name_en"],
            description_fa=entry["description_fa"],
            description_en=entry["description_en"],
            validity_days=entry["validity_days"],
            levels=tuple(entry["levels"]),
            actions=tuple(entry["actions"]),
            criteria=tuple(
                schemes.CriterionInput(
                    code=c["code"],
                    title_fa=c["title_fa"],
                    title_en=c["title_en"],
                    evidence=c["evidence"],
                )
                for c in entry["criteria"]
            ),
        )
        for entry in document["schemes"]
    )


async def seed_schemes(session: AsyncSession, *, at: datetime | None = None) -> int:
    """Publish every seeded scheme not yet present (central's ecosystems must be seeded);
    returns how many were added."""
    added = 0
    for data in seeded_schemes():
        if await repository.scheme_for(session, data.ecosystem, data.kind) is not None:
            continue
        await schemes.create_scheme(
            session, data, actor=SYSTEM, at=at, reason="seeded with the instance"
        )
        added += 1
    return added
