"""The change log (ZB-STD-006 §11): hash-chained, verified by `zistboom registry history verify`,
which names the first edited, removed or inserted change; records read as of a past time."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from central_process import ZISTBOOM
from zistboom.core.database import transaction
from zistboom.core.errors import NotFoundError
from zistboom.registries import service
from zistboom.registries.app import Opened, open_database
from zistboom.registries.query import parse_list_query
from zistboom.registries.schema import load_schema_text
from zistboom.registries.settings import RegistrySettings

DATA = Path(__file__).parent / "data"
CALLER = service.Caller(
    client="IR-DEMO/GOV/12147922321/back-office",
    member="IR-DEMO/GOV/12147922321",
    user_id="IR0499370899",
    purpose="test",
    message_id="m-1",
)


@dataclass
class Service:
    opened: Opened
    schemas: service.Schemas
    settings: RegistrySettings
    env: dict[str, str]


@pytest.fixture
async def registry(database_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    data_dir = tmp_path / "registry"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
    env["ZB_DATABASE_URL"] = database_url
    (data_dir).mkdir()
    (data_dir / "registry.toml").write_text(f'database_url = "{database_url}"\n')
    settings = RegistrySettings.load(data_dir, database_url=database_url)
    opened = await open_database(settings)
    schemas = service.Schemas()
    document = load_schema_text((DATA / "people-1.0.yaml").read_text(), format="yaml")
    async with transaction(opened.sessions) as session:
        definition = service.Definition(
            code="people", name_fa="افراد", name_en="People", owner="IR-DEMO/GOV/12147922321"
        )
        await service.define_registry(session, definition, document)
        await service.publish(session, schemas, "people")
    try:
        yield Service(opened, schemas, settings, env)
    finally:
        await opened.engine.dispose()


async def _write(reg: Service, operation: str, body: dict[str, object]) -> dict[str, object]:
    async with transaction(reg.opened.sessions) as session:
        target = await service.resolve(session, reg.schemas, "people", "1.0")
        result: dict[str, object] = await getattr(service, operation)(session, target, body, CALLER)
        return result


def _record(code: str, height: int) -> dict[str, object]:
    return {
        "write": {
            "content": {
                "national_code": code,
                "given_name": "علی",
                "family_name": "کریمی",
                "birth_date": "1985-01-01",
                "height_cm": height,
            }
        }
    }


def _verify(reg: Service) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZISTBOOM, "registry", "history", "verify", "--data-dir", str(reg.settings.data_dir)],
        env=reg.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_history_verify_names_the_first_edited_change(registry: Service) -> None:
    codes = ["0499370899", "0012345679", "1234567891"]
    for index, code in enumerate(codes):
        await _write(registry, "create", _record(code, 160 + index))
    await _write(
        registry,
        "update",
        {
            "query": {"content": {"national_code": codes[1]}},
            "write": {"content": {"height_cm": 199}},
        },
    )
    intact = await asyncio.to_thread(_verify, registry)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "4 changes verified" in intact.stdout
    async with registry.opened.engine.begin() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT seq, after FROM changes WHERE record_key = :k AND operation = 'create'"
                ),
                {"k": codes[1]},
            )
        ).one()
        edited = dict(row[1]) if not isinstance(row[1], str) else __import__("json").loads(row[1])
        edited["height_cm"] = 150
        await connection.execute(
            text("UPDATE changes SET after = :a WHERE seq = :s"),
            {"a": __import__("json").dumps(edited), "s": row[0]},
        )
    broken = await asyncio.to_thread(_verify, registry)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    said = " ".join(broken.stderr.split())
    assert f"at change {row[0]}" in said
    assert f"record {codes[1]}" in said and "registry people" in said
    assert "edited" in said


async def test_a_removed_last_change_is_found(registry: Service) -> None:
    await _write(registry, "create", _record("0499370899", 170))
    await _write(registry, "create", _record("0012345679", 171))
    async with registry.opened.engine.begin() as connection:
        await connection.execute(text("DELETE FROM changes WHERE seq = 2"))
    broken = await asyncio.to_thread(_verify, registry)
    assert broken.returncode == 1
    assert "removed from the end" in " ".join(broken.stderr.split())


async def test_a_record_as_of_a_past_time(registry: Service) -> None:
    await _write(registry, "create", _record("0499370899", 170))
    await asyncio.sleep(0.01)
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await _write(
        registry,
        "update",
        {
            "query": {"content": {"national_code": "0499370899"}},
            "write": {"content": {"height_cm": 180}},
        },
    )
    query = {"query": {"content": {"national_code": "0499370899"}}}
    async with transaction(registry.opened.sessions) as session:
        target = await service.resolve(session, registry.schemas, "people", "1.0")
        then = await service.read_record(session, target, query, CALLER, as_of=between)
        now = await service.read_record(session, target, query, CALLER)
        assert then["content"]["height_cm"] == 170  # type: ignore[index]
        assert now["content"]["height_cm"] == 180  # type: ignore[index]
        listed = await service.list_records(
            session,
            target,
            parse_list_query(
                target.schema, [("asOf", between.isoformat()), ("query.height_cm.lt", "175")]
            ),
            CALLER,
        )
        assert [r["height_cm"] for r in listed.results] == [170]
    # A record created after that time is not in the list then; one deleted since still is.
    await _write(registry, "create", _record("0012345679", 160))
    async with transaction(registry.opened.sessions) as session:
        target = await service.resolve(session, registry.schemas, "people", "1.0")
        await service.delete(session, target, "0499370899", CALLER)
    async with transaction(registry.opened.sessions) as session:
        target = await service.resolve(session, registry.schemas, "people", "1.0")
        then_all = await service.list_records(
            session,
            target,
            parse_list_query(target.schema, [("asOf", between.isoformat())]),
            CALLER,
        )
        now_all = await service.list_records(
            session, target, parse_list_query(target.schema, []), CALLER
        )
        assert [r["national_code"] for r in then_all.results] == ["0499370899"]
        assert [r["national_code"] for r in now_all.results] == ["0012345679"]
        with pytest.raises(NotFoundError):
            await service.read_record(
                session, target, query, CALLER, as_of=datetime(2020, 1, 1, tzinfo=UTC)
            )
