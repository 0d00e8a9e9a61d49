"""The catalogue's seed (``seed_services.yaml``): the demo's agencies and their services, each
checked as a definition; :func:`install_seed` writes what is not there yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Final

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.window.catalogue import repository, service
from zistboom.window.catalogue.definitions import ServiceDefinition, check_definitions

SEED_FILE: Final = "seed_services.yaml"
SEEDER: Final = "seed"


@dataclass(frozen=True, slots=True)
class SeedAgency:
    member_id: str
    name_fa: str
    name_en: str


@dataclass(frozen=True, slots=True)
class SeedCatalogue:
    agencies: list[SeedAgency]
    services: dict[str, list[ServiceDefinition]]
    """Agency member id → its definitions."""


def load_seed() -> SeedCatalogue:
    source = resources.files("zistboom.window.catalogue").joinpath(SEED_FILE)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
        agencies = [SeedAgency(**row) for row in document["agencies"]]
        services = {
            member: check_definitions(rows) for member, rows in document["services"].items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValidationError) as error:
        raise ConfigurationError(f"{SEED_FILE} is not a valid seed: {error}") from error
    return SeedCatalogue(agencies, services)


async def install_seed(session: AsyncSession, *, now: datetime) -> int:
    """Register the seed's agencies and write their services; the number of services."""
    seed = load_seed()
    for agency in seed.agencies:
        if await repository.agency(session, agency.member_id) is None:
            await service.register_agency(
                session,
                member_id=agency.member_id,
                name_fa=agency.name_fa,
                name_en=agency.name_en,
                actor=SEEDER,
                now=now,
            )
    count = 0
    for member, definitions in seed.services.items():
        await service.import_definitions(session, member, definitions, now=now)
        count += len(definitions)
    return count
