"""``zistboom registry seed``: the national base registries from the synthetic-data generator
(``seed.py``), defined, bulk-loaded and published in this registry service. By default only
the registries the service's own agency owns are loaded (the generator is deterministic, so
each agency's service generates the same population and keeps its own part of it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from zistboom.core.database import transaction
from zistboom.core.errors import ValidationError
from zistboom.registries import bulk, publishing, repository, service
from zistboom.registries.app import open_database
from zistboom.registries.seed import OWNERS, SeedRegistry, national_registries
from zistboom.registries.settings import RegistrySettings

DEFAULT_INSTANCE = "IR-DEMO"


def owner_member(registry: SeedRegistry, instance: str) -> str:
    owner = next(o for o in OWNERS if o.key == registry.owner)
    return f"{instance}/{owner.member_class}/{owner.code}"


def choose(
    registries: Sequence[SeedRegistry],
    settings: RegistrySettings,
    *,
    codes: Sequence[str] | None,
    every: bool,
) -> list[SeedRegistry]:
    instance = settings.member_id.split("/")[0] if settings.member_id else DEFAULT_INSTANCE
    if codes:
        unknown = sorted(set(codes) - {r.code for r in registries})
        if unknown:
            raise ValidationError(
                f"no seed registry {unknown[0]!r} (there are "
                f"{', '.join(r.code for r in registries)})",
                field="registry",
            )
        return [r for r in registries if r.code in codes]
    if every:
        return list(registries)
    own = [r for r in registries if owner_member(r, instance) == settings.member_id]
    if not own:
        owners = ", ".join(sorted({f"{r.code}: {owner_member(r, instance)}" for r in registries}))
        raise ValidationError(
            f"{settings.member_id or 'this service (no member_id)'} owns none of the seed "
            f"registries ({owners}); name them with --registry or load --all",
            field="member_id",
        )
    return own


async def seed_registries(
    settings: RegistrySettings,
    *,
    size: Literal["small", "large"] | int,
    seed: int,
    publish: bool = False,
    codes: Sequence[str] | None = None,
    every: bool = False,
    report: Callable[[str], None] = lambda _line: None,
) -> dict[str, int]:
    """Define, load and publish each chosen registry; one already holding records is kept as
    it is (a re-run reuses the data). Returns the records loaded per registry."""
    instance = settings.member_id.split("/")[0] if settings.member_id else DEFAULT_INSTANCE
    chosen = choose(national_registries(size=size, seed=seed), settings, codes=codes, every=every)
    opened = await open_database(settings)
    schemas = service.Schemas()
    loaded: dict[str, int] = {}
    try:
        for registry in chosen:
            started = time.monotonic()
            async with transaction(opened.sessions) as session:
                existing = await repository.find_registry(session, registry.code)
                if existing is not None and await repository.count_records(session, existing.id):
                    report(f"{registry.code}: kept as it is (it holds records)")
                    continue
                if existing is None:
                    definition = service.Definition(
                        code=registry.code,
                        name_fa=registry.name_fa,
                        name_en=registry.name_en,
                        description_fa=registry.description_fa,
                        description_en=registry.description_en,
                        owner=owner_member(registry, instance),
                        ecosystem=registry.ecosystem,
                    )
                    row, draft = await service.define_registry(session, definition, registry.schema)
                else:
                    row = existing
                    draft = await service.version_row(session, registry.code, None)
                schema = schemas.of(draft)
                target = service.Target(row, draft, schema, [schema])
                result = await bulk.load(session, target, registry.records())
                if draft.published_at is None:
                    await service.publish(session, schemas, registry.code)
            async with transaction(opened.sessions) as session:
                await repository.analyze(session)
            loaded[registry.code] = result.records
            report(
                f"{registry.code}: {result.records:,} records in {time.monotonic() - started:.1f} s"
            )
            if publish:
                await publishing.publish(settings, opened.sessions, schemas, registry.code)
    finally:
        await opened.engine.dispose()
    return loaded
