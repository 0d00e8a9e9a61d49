"""ZB-STD-006 (base registries) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked (its Annex A.7 says what): schemas
are parsed with ``parse_schema``, version changes compared with ``compare``, list queries parsed
with ``parse_list_query``, match forms and terms computed as the registry computes them, the SQL
written by the repository for each database, the change-log hash recomputed with
``history.change_hash``; and every request and answer of Annex A is replayed with the service's
own functions on a SQLite database, once for the module. The checks are plain functions that
raise AssertionError, so that the last tests can alter an example and see its check fail.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
import pytest
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from starlette.datastructures import URL

from standard_examples import fenced_examples
from zistboom.core import exchange as xr
from zistboom.core.database import transaction
from zistboom.core.errors import (
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    ZistboomError,
)
from zistboom.registries import (
    api,
    api_models,
    database_api,
    definitions,
    field_rules,
    fields,
    history,
    management_api,
    publishing,
    query,
    reads,
    repository,
    service,
    validation,
)
from zistboom.registries import schema as schema_module
from zistboom.registries.app import Opened, open_database
from zistboom.registries.models import Change, Record
from zistboom.registries.openapi import database_api_openapi, usage_api_openapi
from zistboom.registries.query import ListQuery, filterable, parse_as_of, parse_list_query
from zistboom.registries.schema import KINDS, RegistrySchema, compare, match_form, parse_schema
from zistboom.registries.seed import ECOSYSTEM_OPERATORS, FIXED_ENTITIES, national_registries
from zistboom.registries.seeding import owner_member
from zistboom.registries.settings import RegistrySettings

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-006-base-registries.md"
KNOWN_EXAMPLES = {
    "gateway-services",
    "schema-refused",
    "schema-refusals",
    "schema",
    "version-breaking",
    "breaking-changes",
    "version-compatible",
    "compatible-comparison",
    "read-answer-1.1",
    "list-queries",
    "list-refusals",
    "match-forms",
    "terms",
    "index-sql",
    "key-read-sql",
    "search-index-sql",
    "statistics-sql",
    "time-filters",
    "term-forms",
    "page-sql",
    "page-sql-parameters",
    "personal-refused-problem",
    "usage-entry",
    "usage-subjects",
    "subject-schema",
    "subject-record",
    "typed-subjects",
    "persons-search-indexes",
    "change-row",
    "change-canonical",
    "change-hash",
    "create-request",
    "more-records",
    "read-request",
    "read-answer",
    "exists-answers",
    "bad-create-request",
    "bad-create-problem",
    "list-request",
    "list-answer",
    "list-answer-2",
    "update-request",
    "update-answer",
    "update-entries-request",
    "refusals",
}
AGENCY = "IR-DEMO/GOV/12147922321"
WRITER = service.Caller(
    client=f"{AGENCY}/back-office",
    member=AGENCY,
    user_id="IR6501057361",
    purpose="registration",
    message_id="0c6f6b0e-4f7e-4c1d-9a53-2d8e1f7a9b10",
)
READER = service.Caller(
    client="IR-DEMO/GOV/60711446972/tax-services",
    member="IR-DEMO/GOV/60711446972",
    user_id="IR4945689199",
    purpose="tax-clearance:TRK-1",
    message_id="4a7b2f26-40ef-4dbc-91f9-a5eacfa50fbe",
)
WINDOW = service.Caller(
    client="IR-DEMO/PUB/15222078494/window",
    member="IR-DEMO/PUB/15222078494",
    user_id="IR0499370899",
    purpose="my-records",
    message_id="9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
)
PERSON = "0499370899"
INDEXED = ("given_name", "family_name", "height_cm", "alive")  # the fields of index-sql
GATEWAY_ADMIN_URL = "http://127.0.0.1:8081"


# --- reading the standard --------------------------------------------------------------------


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example_blocks() -> list[tuple[str, str]]:
    return fenced_examples(standard_text())


def example(name: str) -> str:
    """The block's text without the line feed that ends its last line."""
    bodies = [body for block_name, body in example_blocks() if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0].removesuffix("\n")


def example_json(name: str) -> Any:
    return orjson.loads(example(name))


def section(title: str) -> str:
    """The text of the section whose heading starts with ``title`` (up to the next heading of
    the same or a higher level)."""
    text_ = standard_text()
    match = re.search(rf"^(#+) {re.escape(title)}.*$", text_, re.MULTILINE)
    assert match, f"no section {title}"
    level = len(match[1])
    rest = text_[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def prose(title: str) -> str:
    """A section's text with every run of white space one space (lines joined)."""
    return " ".join(section(title).split())


def table_rows(text_: str, header: str) -> list[list[str]]:
    """The cells of the rows of the first table whose header line starts with ``header``."""
    lines = text_.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def quoted(cell: str) -> list[str]:
    """The back-quoted names in a table cell."""
    return re.findall(r"`([^`]+)`", cell)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def refused(action: Callable[[], object]) -> ZistboomError:
    """The error ``action`` raises; AssertionError when it raises none."""
    try:
        action()
    except ZistboomError as error:
        return error
    raise AssertionError("not refused")


def plain(value: Any) -> Any:
    """A value as JSON has it (SQL parameters bind Decimal on PostgreSQL)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --- checks of the pure examples ---------------------------------------------------------------


def check_refusals(document: dict[str, Any], expected: list[dict[str, str]]) -> None:
    error = refused(lambda: parse_schema(document))
    assert isinstance(error, ValidationError)
    assert error.extra["errors"] == expected
    assert (error.field, error.detail) == (expected[0]["field"], expected[0]["message"])


def breaking_of(old: dict[str, Any], patch: dict[str, Any]) -> list[dict[str, str]]:
    comparison = compare(parse_schema(old), parse_schema(merge_patch(old, patch)))
    return [{"field": i.field, "message": i.reason} for i in comparison.breaking]


def check_comparison(old: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    comparison = compare(parse_schema(old), parse_schema(merge_patch(old, patch)))
    found = {
        "breaking": [{"field": i.field, "message": i.reason} for i in comparison.breaking],
        "needs_unique_check": comparison.needs_unique_check,
    }
    assert found == expected


def parameters(query_string: str) -> list[tuple[str, str]]:
    """The parameters as the service's framework reads a query string."""
    return parse_qsl(query_string, keep_blank_values=True)


def view(parsed: ListQuery) -> dict[str, Any]:
    return {
        "conditions": [[c.field, c.operator, list(c.values)] for c in parsed.conditions],
        "search": parsed.search,
        "order_by": parsed.order_field,
        "descending": parsed.descending,
        "selected": list(parsed.selected) if parsed.selected is not None else None,
        "page_size": parsed.page_size,
    }


def check_list_queries(schema: RegistrySchema, cases: list[dict[str, Any]]) -> None:
    for case in cases:
        expected = {name: value for name, value in case.items() if name != "query"}
        assert view(parse_list_query(schema, parameters(case["query"]))) == expected, case


def check_list_refusals(schema: RegistrySchema, cases: list[dict[str, str]]) -> None:
    for case in cases:
        error = refused(lambda case=case: parse_list_query(schema, parameters(case["query"])))
        assert (error.status, error.field) == (422, case["field"]), case


def check_match_forms(cases: list[list[str]]) -> None:
    for written, form, _why in cases:
        assert match_form(written) == form, (written, match_form(written))


def check_change(row: dict[str, Any], canonical: str, digest: str) -> None:
    at = datetime.fromisoformat(row["at"])
    assert row["at"] == at.astimezone(UTC).isoformat(timespec="microseconds")
    assert history.change_hash(**{**row, "at": at}) == digest
    assert orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode() == canonical
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest


class FakeSession:
    """Records the SQL the repository writes for a database it names (nothing is run)."""

    def __init__(self, dialect: str) -> None:
        self.bind = SimpleNamespace(dialect=SimpleNamespace(name=dialect))
        self.statements: list[tuple[str, dict[str, Any] | None]] = []

    def get_bind(self) -> Any:
        return self.bind

    async def execute(self, statement: Any, params: dict[str, Any] | None = None) -> Any:
        if params is None and hasattr(statement, "compile"):  # a Core statement: its binds
            params = dict(statement.compile().params) or None
        self.statements.append((str(statement), params))
        return SimpleNamespace(all=list, first=lambda: None)

    def begin_nested(self) -> Savepoint:
        return Savepoint()


class Savepoint:
    """What ``begin_nested`` gives: a savepoint that nothing is rolled back to."""

    async def __aenter__(self) -> Savepoint:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


def index_statements(schema: RegistrySchema, registry_id: int) -> list[str]:
    async def write(dialect: str) -> list[str]:
        session = FakeSession(dialect)
        for name in INDEXED:
            await repository.create_index(session, registry_id, schema.field(name), unique=False)
        await repository.create_index(session, registry_id, schema.field("mobile"), unique=True)
        return [statement + ";" for statement, _ in session.statements]

    return [line for dialect in ("sqlite", "postgresql") for line in asyncio.run(write(dialect))]


def check_index_sql(schema: RegistrySchema, block: str) -> None:
    assert block.splitlines() == index_statements(schema, 1)


def page_statement(schema: RegistrySchema, query_string: str) -> tuple[str, dict[str, Any]]:
    session = FakeSession("postgresql")
    parsed = parse_list_query(schema, parameters(query_string))
    asyncio.run(repository.list_page(session, 1, filterable(schema), parsed))  # type: ignore[arg-type]
    sql, params = session.statements[0]
    return sql, {name: plain(value) for name, value in (params or {}).items()}


def check_page_sql(schema: RegistrySchema, link: str, sql: str, params: dict[str, Any]) -> None:
    assert link.startswith("?")
    written, bound = page_statement(schema, link[1:])
    assert " ".join(sql.split()) == " ".join(written.split())
    assert params == bound


def read_statements(schema: RegistrySchema, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """The statement a read writes on each database, and its parameters (no record is found,
    as nothing is run)."""

    async def write(dialect: str) -> tuple[str, Any]:
        session = FakeSession(dialect)
        registry = SimpleNamespace(id=1, code="people")
        target = service.Target(registry, SimpleNamespace(version="1.0"), schema, [schema])  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            await service.read_record(session, target, body, READER)  # type: ignore[arg-type]
        [(sql, params)] = session.statements
        return " ".join(sql.split()), params

    return [asyncio.run(write(dialect)) for dialect in ("sqlite", "postgresql")]


def check_key_read_sql(schema: RegistrySchema, body: dict[str, Any], sql: str, key: str) -> None:
    assert (
        read_statements(schema, body)
        == [(" ".join(sql.split()), {"registry_id_1": 1, "key_1": key})] * 2
    )


def publication_statements(schema: RegistrySchema, registry_id: int) -> dict[str, list[str]]:
    """The statements publishing a version of ``schema`` runs on each database."""

    async def write(dialect: str) -> list[str]:
        session = FakeSession(dialect)
        registry = SimpleNamespace(id=registry_id)
        await definitions.build_indexes(session, registry, schema)  # type: ignore[arg-type]
        return [statement + ";" for statement, _ in session.statements]

    return {dialect: asyncio.run(write(dialect)) for dialect in ("sqlite", "postgresql")}


def check_search_index_sql(schema: RegistrySchema, indexes: str, statistics: str) -> None:
    written = publication_statements(schema, 1)
    compound = [
        line
        for dialect in ("sqlite", "postgresql")
        for line in written[dialect]
        if line.startswith("CREATE INDEX") and line.count("terms") > 1
    ]
    assert len(compound) == 2 * len(schema.search_indexes)
    assert indexes.splitlines() == compound
    made = [line for line in written["postgresql"] if line.startswith("CREATE STATISTICS")]
    assert [line.split()[5] for line in made] == [f"st_r1_{name}" for name in schema.searchable]
    assert not [line for line in written["sqlite"] if "STATISTICS" in line]
    shown = statistics.splitlines()
    assert shown and all(line in made for line in shown)


def check_time_filters(schema: RegistrySchema, cases: list[dict[str, Any]]) -> None:
    for case in cases:
        if "field" in case:
            error = refused(partial(parse_list_query, schema, parameters(case["query"])))
            assert (error.status, error.field) == (422, case["field"]), case
        else:
            try:
                parsed = parse_list_query(schema, parameters(case["query"]))
            except ZistboomError as error:
                raise AssertionError(f"refused: {case}") from error
            assert view(parsed)["conditions"] == case["conditions"], case


def check_term_forms(schema: RegistrySchema, cases: list[list[Any]]) -> None:
    for name, value, expected in cases:
        schema.validate_partial({name: value}, pointer="")
        assert query.term(schema.field(name), value) == expected, (name, value)


def check_typed_subjects(document: dict[str, Any], record: Any, expected: list[str]) -> None:
    parsed = parse_schema(document)
    parsed.validate_record(record, pointer="")
    assert parsed.typed_subjects(record) == expected


# --- the worked example, in process on SQLite ---------------------------------------------------


@dataclass
class Outcome:
    """What the service answered in the scenario of Annex A."""

    created: dict[str, Any] = field(default_factory=dict)
    terms: dict[str, Any] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    exists: list[dict[str, Any]] = field(default_factory=list)
    read_value: Any = None
    bad_create: dict[str, Any] = field(default_factory=dict)
    personal_refused: dict[str, Any] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    usage_subjects: list[str] = field(default_factory=list)
    update: dict[str, Any] = field(default_factory=dict)
    update_entries: dict[str, Any] = field(default_factory=dict)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    breaking_errors: list[dict[str, str]] = field(default_factory=list)
    archive_version: str = ""
    compatible_version: str = ""
    read_1_1: dict[str, Any] = field(default_factory=dict)
    read_1_0_after: dict[str, Any] = field(default_factory=dict)
    services: list[dict[str, Any]] = field(default_factory=list)
    catalogue: list[str] = field(default_factory=list)
    openapi: dict[str, Any] = field(default_factory=dict)
    secret: str = ""
    first_change: dict[str, Any] = field(default_factory=dict)
    changes: int = 0
    intact: history.Verification | None = None
    tampered: dict[str, history.Verification] = field(default_factory=dict)
    indexes: set[str] = field(default_factory=set)
    archive_indexes: set[str] = field(default_factory=set)
    archive_indexes_after: set[str] = field(default_factory=set)
    archive_id: int = 0
    next_id: int = 0
    autoincrement: set[str] = field(default_factory=set)


class RecordingGateway:
    """Stands in for the gateway's management API: records what publishing sends it."""

    calls: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings

    async def __aenter__(self) -> RecordingGateway:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def ensure_client(self) -> None:
        return None

    async def put_service(self, code: str, fields_: dict[str, Any]) -> None:
        self.calls.append(("service", code, fields_))

    async def publish_to_catalogue(self, code: str) -> bool:
        self.calls.append(("catalogue", code, {}))
        return True


def problem_of(error: ZistboomError, instance: str) -> dict[str, Any]:
    """The problem document the service's error handler makes of ``error``."""
    return error.to_problem(instance=instance)


def with_headers(caller: service.Caller, case: dict[str, Any]) -> service.Caller:
    user = case.get("user", caller.user_id)
    purpose = case.get("purpose", caller.purpose)
    return service.Caller(caller.client, caller.member, user, purpose, caller.message_id)


class Scenario:
    """The registry service of Annex A, called in process as its routes call it."""

    def __init__(self, opened: Opened, settings: RegistrySettings) -> None:
        self.opened = opened
        self.settings = settings
        self.schemas = service.Schemas()

    async def on(
        self, registry: str, version: str, work: Callable[[Any, service.Target], Awaitable[Any]]
    ) -> Any:
        async with transaction(self.opened.sessions) as session:
            target = await service.resolve(session, self.schemas, registry, version)
            return await work(session, target)

    async def page(self, query_string: str, caller: service.Caller) -> dict[str, Any]:
        """A list answer as the route gives it, links included."""

        async def work(session: Any, target: service.Target) -> service.Page:
            parsed = parse_list_query(target.schema, parameters(query_string))
            return await service.list_records(session, target, parsed, caller)

        page = await self.on("people", "1.0", work)
        url = URL("/data/people/1.0?" + query_string)

        def link(cursor: Any) -> str | None:
            if cursor is None:
                return None
            return "?" + url.include_query_params(cursor=cursor.encode()).query

        return {
            "count": page.count,
            "count_exact": page.count_exact,
            "next": link(page.next),
            "previous": link(page.previous),
            "results": page.results,
        }

    async def refusal(self, case: dict[str, Any]) -> dict[str, Any]:
        try:
            await self.call(case)
        except ZistboomError as error:
            return {**case, "status": error.status, "field": error.field}
        return {**case, "status": 200, "field": None}

    async def call(self, case: dict[str, Any]) -> None:
        call = case["call"]
        registry, version = case.get("registry", "people"), case.get("version", "1.0")
        caller = with_headers(READER, case)
        operations = {
            "read": service.read_record,
            "exists": service.exists,
            "create": service.create,
            "update": service.update,
            "update-entries": service.update_entries,
            "update-or-create": service.update_or_create,
        }
        if call in operations:
            as_of = parse_as_of(case["asOf"]) if "asOf" in case else None

            async def operate(session: Any, target: service.Target) -> Any:
                if call == "read":
                    return await service.read_record(
                        session, target, case["body"], caller, as_of=as_of
                    )
                return await operations[call](session, target, case["body"], caller)

            await self.on(registry, version, operate)
        elif call == "delete":
            await self.on(registry, version, lambda s, t: service.delete(s, t, case["key"], caller))
        elif call == "read-value":
            name, _, extension = case["value"].rpartition(".")
            await self.on(
                registry,
                version,
                lambda s, t: service.read_value(s, t, case["key"], name, extension, caller),
            )
        elif call == "list":

            async def listing(session: Any, target: service.Target) -> Any:
                parsed = parse_list_query(target.schema, parameters(case["query"]))
                return await service.list_records(session, target, parsed, caller)

            await self.on(registry, version, listing)
        elif call == "usage":
            asker = with_headers(WINDOW, case)
            # as the route reads from and to
            since = parse_as_of(case["from"], field="from") if "from" in case else None
            until = parse_as_of(case["to"], field="to") if "to" in case else None
            async with transaction(self.opened.sessions) as session:
                await service.usage_list(
                    session, asker, asked_for=case.get("userID"), since=since, until=until,
                    after_id=None, limit=50,
                )  # fmt: skip
        else:
            await self.special(case, registry)

    async def special(self, case: dict[str, Any], registry: str) -> None:
        """The refusals made before the service's rules (routes) or by definitions."""
        call = case["call"]
        secret = publishing.gateway_secret(self.settings)
        token = "t" * 43
        state = SimpleNamespace(settings=self.settings, gateway_secret=secret, admin_token=token)
        request = SimpleNamespace(
            app=SimpleNamespace(state=SimpleNamespace(registry=state)),
            client=SimpleNamespace(host=case.get("host", "127.0.0.1")),
            headers={},
        )
        if call == "database":
            client = case["client"]
            member = "/".join(client.split("/")[:3])
            database_api._own_system(service.Caller(client=client, member=member), request)  # type: ignore[arg-type]
        elif call == "gateway":
            headers = {xr.GATEWAY_SECRET: secret if case["secret"] == "right" else "x" * 43}
            client = case.get("client", READER.client)
            if client is not None:
                headers[xr.X_ROAD_CLIENT] = client
            request.headers = headers
            api._through_gateway(request, headers.get(xr.GATEWAY_SECRET))  # type: ignore[arg-type]
            if client is None:
                raise ValidationError("X-Road-Client is missing", field="X-Road-Client")
            api._from_gateway(None, client)
        elif call == "management":
            given = {"right": token, "wrong": "w" * 43, None: None}[case["token"]]
            credentials = (
                HTTPAuthorizationCredentials(scheme="Bearer", credentials=given) if given else None
            )
            management_api._admin(request, credentials)  # type: ignore[arg-type]
        elif call in ("define", "publish", "delete-registry"):
            async with transaction(self.opened.sessions) as session:
                if call == "define":
                    definition = service.Definition(
                        code=registry, name_fa="افراد", name_en="People", owner=AGENCY
                    )
                    await service.define_registry(session, definition, example_json("schema"))
                elif call == "publish":
                    await service.publish(session, self.schemas, registry)
                else:
                    await service.delete_registry(session, registry)
        else:
            raise AssertionError(f"unknown call {call!r}")


async def define(scenario: Scenario, code: str, schema: dict[str, Any]) -> None:
    async with transaction(scenario.opened.sessions) as session:
        definition = service.Definition(
            code=code, name_fa="افراد", name_en="People", owner=AGENCY, ecosystem="national"
        )
        await service.define_registry(session, definition, schema)
        await service.publish(session, scenario.schemas, code)


async def propose(scenario: Scenario, code: str, schema: dict[str, Any]) -> str:
    async with transaction(scenario.opened.sessions) as session:
        row = await service.propose_version(session, scenario.schemas, code, schema)
        return row.version


async def run_scenario(data_dir: Path) -> Outcome:
    """Annex A on a new database in ``data_dir``, which holds the gateway's admin-token file."""
    database = data_dir / "registry.db"
    settings = RegistrySettings.load(
        data_dir,
        database_url=f"sqlite+aiosqlite:///{database}",
        member_id=AGENCY,
        subsystem="registry",
        host="127.0.0.1",
        port=8090,
        public_url="",
        gateway_hosts=["127.0.0.1", "::1"],
        gateway_admin_url=GATEWAY_ADMIN_URL,
        gateway_admin_token_file=str(data_dir / "gateway-admin-token"),
    )
    opened = await open_database(settings)
    scenario = Scenario(opened, settings)
    out = Outcome()
    schema = example_json("schema")
    try:
        await define(scenario, "people", schema)
        await tell(scenario, out)
        await change_versions(scenario, out, schema)
        await publish_services(scenario, out)
        async with transaction(opened.sessions) as session:
            seqs = (await session.execute(text("SELECT seq FROM changes ORDER BY seq"))).all()
            out.changes = len(seqs)
            row = await session.get(Change, 1)
            assert row is not None
            out.first_change = {
                "seq": row.seq,
                "registry_id": row.registry_id,
                "record_key": row.record_key,
                "operation": row.operation,
                "client": row.client,
                "user_id": row.user_id,
                "message_id": row.message_id,
                "before": row.before,
                "after": row.after,
                "previous_hash": row.previous_hash,
            }
            out.intact = await history.verify(session)
        out.indexes = await index_names(scenario, 1)
        await remove_archive(scenario, out)
        async with transaction(opened.sessions) as session:
            tables = await session.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE :a"),
                {"a": "%AUTOINCREMENT%"},
            )
            out.autoincrement = {name for (name,) in tables.all()}
    finally:
        await opened.engine.dispose()
    return out


async def index_names(scenario: Scenario, registry_id: int) -> set[str]:
    """The names of a registry's own indexes in the SQLite database."""
    async with transaction(scenario.opened.sessions) as session:
        names = await session.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND (name LIKE :ix ESCAPE '!' OR name LIKE :ux ESCAPE '!')"
            ),
            {"ix": f"ix!_r{registry_id}!_%", "ux": f"ux!_r{registry_id}!_%"},
        )
        return {name for (name,) in names.all()}


async def remove_archive(scenario: Scenario, out: Outcome) -> None:
    """The end of A.6: archive deleted, its indexes with it; the next registry's id."""
    async with transaction(scenario.opened.sessions) as session:
        out.archive_id = (await service.get_registry(session, "archive")).id
    out.archive_indexes = await index_names(scenario, out.archive_id)
    async with transaction(scenario.opened.sessions) as session:
        await service.delete_registry(session, "archive")
    out.archive_indexes_after = await index_names(scenario, out.archive_id)
    async with transaction(scenario.opened.sessions) as session:
        definition = service.Definition(
            code="scratch", name_fa="افراد", name_en="People", owner=AGENCY
        )
        registry, _ = await service.define_registry(session, definition, example_json("schema"))
        out.next_id = registry.id


async def tell(scenario: Scenario, out: Outcome) -> None:
    """Annex A: the records, reads, refusals, lists, updates and the usage list."""

    async def create(caller: service.Caller, body: Any) -> Any:
        return await scenario.on("people", "1.0", lambda s, t: service.create(s, t, body, caller))

    out.created = await create(WRITER, example_json("create-request"))
    for record in example_json("more-records"):
        await create(WRITER, {"write": {"content": record}})
    async with transaction(scenario.opened.sessions) as session:
        terms = await session.scalar(
            text("SELECT terms FROM records WHERE key = :k"), {"k": PERSON}
        )
        out.terms = orjson.loads(terms)
    out.read = await scenario.on(
        "people",
        "1.0",
        lambda s, t: service.read_record(s, t, example_json("read-request"), READER),
    )
    async with transaction(scenario.opened.sessions) as session:
        subjects = await session.scalars(
            text("SELECT subject FROM personal_data_usage WHERE message_id = :m ORDER BY id"),
            {"m": READER.message_id},
        )
        out.usage_subjects = list(subjects)
    for case in example_json("exists-answers"):
        body = {"query": {"content": case["query"]}}
        answer = await scenario.on(
            "people", "1.0", lambda s, t, body=body: service.exists(s, t, body, READER)
        )
        out.exists.append({"query": case["query"], "answer": answer})
    value, _ = await scenario.on(
        "people",
        "1.0",
        lambda s, t: service.read_value(s, t, PERSON, "height_cm", "json", READER),
    )
    out.read_value = value
    try:
        await create(WRITER, example_json("bad-create-request"))
    except ZistboomError as error:
        out.bad_create = problem_of(error, "/data/people/1.0/create")
    unpurposed = service.Caller(
        READER.client, READER.member, READER.user_id, None, READER.message_id
    )
    try:
        await scenario.on(
            "people",
            "1.0",
            lambda s, t: service.read_record(s, t, example_json("read-request"), unpurposed),
        )
    except ZistboomError as error:
        out.personal_refused = problem_of(error, "/data/people/1.0/read")
    first = await scenario.page(example("list-request"), WINDOW)
    out.pages = [first]
    if first["next"]:
        out.pages.append(await scenario.page(first["next"][1:], WINDOW))
    async with transaction(scenario.opened.sessions) as session:
        person = service.Caller(WINDOW.client, WINDOW.member, "IR" + PERSON, "my-records")
        rows = await service.usage_list(
            session, person, asked_for=PERSON, since=None, until=None, after_id=None, limit=50
        )
        out.usage = [api_models.PersonalDataUsage.of(row).model_dump(mode="json") for row in rows]
    for case in example_json("refusals"):
        out.refusals.append(await scenario.refusal(case))
    update, entries = example_json("update-request"), example_json("update-entries-request")
    out.update = await scenario.on(
        "people", "1.0", lambda s, t: service.update(s, t, update, WRITER)
    )
    out.update_entries = await scenario.on(
        "people", "1.0", lambda s, t: service.update_entries(s, t, entries, WRITER)
    )


async def change_versions(scenario: Scenario, out: Outcome, schema: dict[str, Any]) -> None:
    breaking = merge_patch(schema, example_json("version-breaking"))
    try:
        await propose(scenario, "people", breaking)
    except ValidationError as error:
        out.breaking_errors = error.extra["errors"]
    await define(scenario, "archive", schema)
    out.archive_version = await propose(scenario, "archive", breaking)
    compatible = merge_patch(schema, example_json("version-compatible"))
    out.compatible_version = await propose(scenario, "people", compatible)
    async with transaction(scenario.opened.sessions) as session:
        await service.publish(session, scenario.schemas, "people")
    body = example_json("read-request")
    out.read_1_1 = await scenario.on(
        "people", out.compatible_version, lambda s, t: service.read_record(s, t, body, READER)
    )
    out.read_1_0_after = await scenario.on(
        "people", "1.0", lambda s, t: service.read_record(s, t, body, READER)
    )


async def publish_services(scenario: Scenario, out: Outcome) -> None:
    RecordingGateway.calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publishing, "gateway", RecordingGateway)
        await publishing.publish(
            scenario.settings, scenario.opened.sessions, scenario.schemas, "people"
        )
    for kind, code, sent in RecordingGateway.calls:
        if kind == "catalogue":
            out.catalogue.append(code)
        else:
            out.services.append({"code": code, **sent})
    async with transaction(scenario.opened.sessions) as session:
        out.openapi = await publishing.registry_openapi(session, scenario.schemas, "people")
    out.secret = (scenario.settings.data_dir / "gateway-secret").read_text().strip()


TAMPERING = {
    "edited": "UPDATE changes SET client = 'IR-DEMO/GOV/12147922321/intruder' WHERE seq = 2",
    "relinked": f"UPDATE changes SET previous_hash = '{'f' * 64}' WHERE seq = 2",
    "missing": "DELETE FROM changes WHERE seq = 3",
    "truncated": "DELETE FROM changes WHERE seq = (SELECT max(seq) FROM changes)",
}


async def verify_tampered(data_dir: Path, statement: str) -> history.Verification:
    """history.verify on the database in ``data_dir`` after ``statement`` changed it."""
    url = f"sqlite+aiosqlite:///{data_dir / 'registry.db'}"
    opened = await open_database(RegistrySettings.load(data_dir, database_url=url))
    try:
        async with transaction(opened.sessions) as session:
            await session.execute(text(statement))
        async with transaction(opened.sessions) as session:
            return await history.verify(session)
    finally:
        await opened.engine.dispose()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    data_dir = tmp_path_factory.mktemp("registry-standard")
    (data_dir / "gateway-admin-token").write_text("g" * 43 + "\n")
    out = asyncio.run(run_scenario(data_dir))
    for name, statement in TAMPERING.items():
        copy_dir = tmp_path_factory.mktemp(f"tampered-{name}")
        shutil.copy(data_dir / "registry.db", copy_dir / "registry.db")
        out.tampered[name] = asyncio.run(verify_tampered(copy_dir, statement))
    return out


@pytest.fixture(scope="module")
def schema() -> RegistrySchema:
    return parse_schema(example_json("schema"))


@pytest.fixture(scope="module")
def schema_1_1() -> RegistrySchema:
    """Version 1.1 of section 6.4."""
    return parse_schema(merge_patch(example_json("schema"), example_json("version-compatible")))


# --- the document ----------------------------------------------------------------------------


def test_every_example_block_is_known_and_appears_once() -> None:
    names = [name for name, _ in example_blocks()]
    assert sorted(set(names) - KNOWN_EXAMPLES) == [], "unknown zb-example blocks"
    assert sorted(names) == sorted(KNOWN_EXAMPLES)


def test_header_persian_abstract_and_requirement_words() -> None:
    text_ = standard_text()
    assert text_.startswith("# ZB-STD-006: Base registries\n")
    for row in (
        "| Document | ZB-STD-006 |",
        "| Version | 1.1 |",
        "| Status | Active (normative) |",
        "| Date | 2026-12-01 |",
    ):
        assert row in text_
    changes = re.search(r"^\| Changes \| (.*) \|$", text_, re.MULTILINE)
    assert changes is not None
    assert changes[1].startswith("1.1: ") and changes[1].endswith(" 1.0: first version")
    assert "| Reference implementation | `zistboom.registries.schema`" in text_
    abstract = text_.index("## خلاصه")
    assert abstract < text_.index("## 1 Scope")
    persian = text_[abstract : text_.index("## 1 Scope")]
    assert len(re.findall(r"[\u0600-\u06FF]", persian)) > 1000
    conventions = section("2.1 Conventions")
    assert "RFC 2119" in conventions and "RFC 8174" in conventions
    for word in ("MUST", "MUST NOT", "SHOULD", "MAY", "OPTIONAL"):
        assert word in conventions
    headings = re.findall(r"^## (\d+) ", text_, re.MULTILINE)
    assert headings == [str(n) for n in range(1, len(headings) + 1)]


def test_the_callers_of_annex_a_are_those_of_the_test() -> None:
    rows = table_rows(section("A.1 The registry"), "| Caller |")
    callers = [(quoted(row[1]), quoted(row[2]), quoted(row[3]), quoted(row[4])) for row in rows]
    assert callers == [
        ([c.client], [c.user_id], [c.purpose], [c.message_id]) for c in (WRITER, READER, WINDOW)
    ]


# --- schemas ---------------------------------------------------------------------------------


def test_the_example_schema_parses(schema: RegistrySchema) -> None:
    assert [f.kind for f in schema.fields] == [
        "text", "text", "text", "date", "date-time", "code-list", "integer", "boolean", "text",
        "file", "geo-point", "array",
    ]  # fmt: skip
    assert schema.key.name == "national_code" and schema.has_personal
    assert [f.name for f in schema.subject_fields] == ["national_code", "guardians"]
    said = section("5.7 Example")
    for name in schema.searchable:
        assert f"`{name}`" in said


def test_a_schema_outside_the_subset_is_refused_naming_each_keyword() -> None:
    check_refusals(example_json("schema-refused"), example_json("schema-refusals"))


def test_the_kinds_table_is_the_implementation_s() -> None:
    rows = table_rows(section("5.2 Field kinds"), "| Kind |")
    assert [quoted(row[0])[0] for row in rows] == list(KINDS)
    for row in rows:
        kind = quoted(row[0])[0]
        own = set(quoted(row[2])) - {"—"}
        assert own == field_rules._KIND_KEYWORDS[kind] - {"type"}, kind  # type: ignore[index]
    flag_rows = table_rows(section("5.3 Flags"), "| Flag |")
    flags = [quoted(row[0])[0] for row in flag_rows]
    assert flags == [*field_rules._FLAGS, "x-code-list", "x-geo-point", "x-max-bytes"]
    kinds = next(row for row in flag_rows if quoted(row[0]) == ["x-subject-kind"])
    assert quoted(kinds[1]) == list(field_rules.SUBJECT_KINDS)
    top_level = section("5.1 The document").split("Nothing else")[0]
    for name in schema_module._TOP_LEVEL - {"type"}:
        assert f"`{name}`" in top_level, name
    generic = re.search(r"Every field MAY also have (.*?);", section("5.2 Field kinds"), re.DOTALL)
    assert generic is not None
    assert set(quoted(generic[1])) == field_rules._GENERIC


# --- versions --------------------------------------------------------------------------------


def test_compare_finds_the_breaking_changes_of_the_example() -> None:
    assert breaking_of(example_json("schema"), example_json("version-breaking")) == example_json(
        "breaking-changes"
    )


def test_the_compatible_version_needs_only_a_uniqueness_check() -> None:
    check_comparison(
        example_json("schema"),
        example_json("version-compatible"),
        example_json("compatible-comparison"),
    )


def test_versions_are_numbered_and_refused_as_section_6_says(outcome: Outcome) -> None:
    assert outcome.breaking_errors == example_json("breaking-changes")
    assert outcome.archive_version == "2.0"
    assert outcome.compatible_version == "1.1"
    assert outcome.read_1_1 == example_json("read-answer-1.1")
    assert "verified" not in outcome.read_1_0_after["content"]
    assert outcome.read_1_0_after["content"] == outcome.update["content"]


# --- lists -----------------------------------------------------------------------------------


def test_each_list_query_parses_as_stated(schema: RegistrySchema) -> None:
    check_list_queries(schema, example_json("list-queries"))


def test_each_refused_list_query_names_its_parameter(schema: RegistrySchema) -> None:
    check_list_refusals(schema, example_json("list-refusals"))
    many = [("query.height_cm.gte", str(n)) for n in range(query.MAX_FILTERS + 1)]
    assert refused(lambda: parse_list_query(schema, many)).field == "query"
    values = ",".join(str(n) for n in range(query.MAX_IN_VALUES + 1))
    wide = [("query.height_cm.in", values)]
    assert refused(lambda: parse_list_query(schema, wide)).field == "query.height_cm.in"


def test_times_and_date_times_in_filters_carry_their_offset(schema_1_1: RegistrySchema) -> None:
    assert [f.kind for f in schema_1_1.fields if f.name == "birth_time"] == ["time"]
    check_time_filters(schema_1_1, example_json("time-filters"))
    error = refused(lambda: parse_as_of("2026-12-01T00:00:00", field="from"))
    assert error.field == "from"


def test_the_match_forms() -> None:
    check_match_forms(example_json("match-forms"))


def test_the_limits_are_the_implementation_s() -> None:
    modules = {
        "query": query,
        "service": service,
        "api": api,
        "validation": validation,
        "fields": fields,
        "field_rules": field_rules,
        "schema": schema_module,
    }
    rows = table_rows(section("8.7 Bounds"), "| Limit |")
    assert len(rows) == 14
    for _limit, value, reference in rows:
        module, name = quoted(reference)[0].split(".")
        assert getattr(modules[module], name) == int(value), reference


def test_the_terms_are_stored_as_section_8_10_says(
    outcome: Outcome, schema_1_1: RegistrySchema
) -> None:
    assert outcome.terms == example_json("terms")
    check_term_forms(schema_1_1, example_json("term-forms"))
    integer_key = parse_schema(
        {"type": "object", "properties": {"id": {"type": "integer", "x-key": True}}}
    )
    key = integer_key.key
    assert query.term(key, 42) == "42" and query.parse_value(key, "007", parameter="x") == "7"
    assert "an integer key `42` as `42`" in prose("8.10 Terms")


def test_the_sql_is_the_repository_s(schema: RegistrySchema, outcome: Outcome) -> None:
    check_index_sql(schema, example("index-sql"))
    expected = {f"ix_r1_{name}" for name in schema.searchable} | {"ux_r1_mobile"}
    assert expected <= outcome.indexes
    next_link = example_json("list-answer")["next"]
    check_page_sql(schema, next_link, example("page-sql"), example_json("page-sql-parameters"))


def test_the_key_is_read_from_records_key(schema: RegistrySchema) -> None:
    assert "`key_1` to `0499370899`" in prose("8.11 Expressions and indexes")
    check_key_read_sql(schema, example_json("read-request"), example("key-read-sql"), PERSON)
    for dialect in ("sqlite", "postgresql"):  # every condition and search on the key
        parsed = parse_list_query(schema, parameters("query.national_code.prefix=04&search=04"))
        clauses = repository._where(dialect, 1, filterable(schema), parsed, {})
        assert clauses[1] == "(key >= :c0lo AND key < :c0hi)"
        assert clauses[2].startswith("((key >= :s0lo AND key < :s0hi) OR ")
    key_type = Record.__table__.c.key.type
    on_postgresql = key_type.dialect_impl(postgresql.dialect())  # type: ignore[no-untyped-call]
    on_sqlite = key_type.dialect_impl(sqlite.dialect())
    assert getattr(on_postgresql, "collation", None) == "C"
    assert getattr(on_sqlite, "collation", None) is None  # BINARY: code-point order already


def test_compound_search_indexes(schema_1_1: RegistrySchema, outcome: Outcome) -> None:
    assert schema_1_1.search_indexes == tuple(
        tuple(names) for names in example_json("version-compatible")["x-search-indexes"]
    )
    check_search_index_sql(schema_1_1, example("search-index-sql"), example("statistics-sql"))
    names = {"ix_r1_family_name_birth_date", "ix_r1_given_name_family_name_birth_date"}
    assert names <= outcome.indexes  # publishing 1.1 made them
    said = prose("8.12 Compound search indexes")
    assert "longer than 63 characters, `ix_r<registry id>_` followed by the first 16" in said
    long_names = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "x-key": True},
            **{name: {"type": "string", "x-searchable": True} for name in ("a" * 30, "b" * 30)},
        },
        "x-search-indexes": [["a" * 30, "b" * 30]],
    }
    written = publication_statements(parse_schema(long_names), 7)["sqlite"][-1]
    full = "ix_r7_" + "a" * 30 + "_" + "b" * 30
    assert written.split()[5] == "ix_r7_" + hashlib.sha256(full.encode()).hexdigest()[:16]
    assert schema_module.MAX_SEARCH_INDEXES == 10


# --- the worked example ----------------------------------------------------------------------


def test_create_and_read(outcome: Outcome) -> None:
    assert outcome.created == example_json("read-answer")
    assert outcome.read == example_json("read-answer")
    assert outcome.exists == example_json("exists-answers")
    assert outcome.read_value == {"value": 165}
    assert 'answers `{"value": 165}`' in section("A.3 Reading")


def test_a_bad_body_is_a_problem_naming_each_field(outcome: Outcome) -> None:
    assert outcome.bad_create == example_json("bad-create-problem")


def test_a_personal_read_without_purpose_is_refused(outcome: Outcome) -> None:
    assert outcome.personal_refused == example_json("personal-refused-problem")


def test_the_list_pages(outcome: Outcome) -> None:
    assert outcome.pages == [example_json("list-answer"), example_json("list-answer-2")]


def test_updates(outcome: Outcome) -> None:
    assert outcome.update == example_json("update-answer")
    assert outcome.update_entries == {"updated": 3}
    assert 'answered `{"updated": 3}`' in section("A.6 Updates")


def test_each_refusal_has_its_status_and_field(outcome: Outcome) -> None:
    assert outcome.refusals == example_json("refusals")


def test_the_usage_entry(outcome: Outcome) -> None:
    entry = example_json("usage-entry")
    api_models.PersonalDataUsage.model_validate(entry)
    found = [e for e in outcome.usage if e["MessageId"] == READER.message_id]
    assert len(found) == 2  # the read of A.3, then its read-value of height_cm
    assert {**found[0], "SearchDateTime": entry["SearchDateTime"]} == entry
    assert found[1]["Fields"] == ["height_cm"]
    rows = table_rows(section("9.3 The usage API"), "| Member |")
    assert [quoted(row[0])[0] for row in rows] == list(api_models.PersonalDataUsage.model_fields)
    assert {e["MessageId"] for e in outcome.usage} == {READER.message_id, WINDOW.message_id}
    assert outcome.usage_subjects[:2] == example_json("usage-subjects")
    assert "with `userID=0499370899`" in prose("9.3 The usage API")


def test_subjects_are_typed() -> None:
    document, record = example_json("subject-schema"), example_json("subject-record")
    check_typed_subjects(document, record, example_json("typed-subjects"))
    assert schema_module.typed_subject("0499370899", None) == "IR0499370899"
    assert schema_module.typed_subject("88135404915", None) == "LE88135404915"
    assert schema_module.typed_subject("564896869631", None) == "?564896869631"
    bad = merge_patch(document, {"properties": {"holder": {"x-subject-kind": "passport"}}})
    error = refused(lambda: parse_schema(bad))
    assert error.field == "/properties/holder/x-subject-kind"
    # the subjects of every published version: a field one version types is typed in all
    untyped = merge_patch(document, {"properties": {"holder": {"x-subject-kind": None}}})
    versions = [parse_schema(untyped), parse_schema(document)]
    target = service.Target(SimpleNamespace(), SimpleNamespace(), versions[0], versions)  # type: ignore[arg-type]
    assert target.typed_subjects(record)[:2] == ["IR0499370899", "LE88135404915"]
    assert "FN0499370899" in target.typed_subjects(record)
    assert "logged under both types" in prose("9.2 Usage entries")


def test_a_field_personal_in_any_version_is_personal_in_all(schema: RegistrySchema) -> None:
    plain_fields = {"properties": {n: {"x-personal": None} for n in schema.personal}}
    impersonal = parse_schema(merge_patch(example_json("schema"), plain_fields))
    assert not impersonal.has_personal
    registry = SimpleNamespace(code="people")
    target = service.Target(registry, SimpleNamespace(), impersonal, [impersonal, schema])  # type: ignore[arg-type]
    unnamed = service.Caller(READER.client, READER.member, None, None, READER.message_id)
    with pytest.raises(PermissionDeniedError):
        reads._require_purpose(target, unnamed)
    stored = example_json("create-request")["write"]["content"]
    usage = reads._usage(target, READER, PERSON, stored, {"height_cm": 165}, datetime.now(UTC))
    assert [u.subject for u in usage] == example_json("usage-subjects")
    alone = service.Target(registry, SimpleNamespace(), impersonal, [impersonal])  # type: ignore[arg-type]
    reads._require_purpose(alone, unnamed)
    said = prose("9.1 The personal-data rule")
    assert "A field personal in **any** published version is personal in every version" in said


def test_the_gateway_secret_has_32_characters_at_least(tmp_path: Path) -> None:
    settings = SimpleNamespace(data_dir=tmp_path)
    (tmp_path / "gateway-secret").write_text("s" * 31 + "\n")
    with pytest.raises(ConfigurationError) as raised:
        publishing.gateway_secret(settings)  # type: ignore[arg-type]
    assert raised.value.field == "gateway_secret"
    (tmp_path / "gateway-secret").write_text("s" * 32 + "\n")
    assert publishing.gateway_secret(settings) == "s" * 32  # type: ignore[arg-type]
    said = prose("3.2 What it believes")
    assert "fewer than 32 characters MUST stop the service from starting" in said


def test_the_service_s_own_codes_are_reserved() -> None:
    said = prose("4.1 The services")
    for code in definitions.RESERVED_CODES:
        assert "no registry MAY have the code" in said and f"`{code}`" in said, code
    assert {"personal-data-usage", "registry-database"} == definitions.RESERVED_CODES


def test_ids_are_never_reused_and_indexes_go_with_their_registry(outcome: Outcome) -> None:
    assert outcome.archive_id == 2 and outcome.next_id == 3
    assert {"ix_r2_given_name", "ux_r2_mobile"} <= outcome.archive_indexes
    assert outcome.archive_indexes_after == set()
    assert outcome.autoincrement == {"registries", "registry_versions"}
    said = prose("A.6 Updates")
    assert "`scratch`, is registry 3, never 2" in said


def test_publishing_registers_the_three_services(outcome: Outcome) -> None:
    expected = example_json("gateway-services")
    shown = [
        {name: value for name, value in s.items() if name not in ("openapi", "backend_secret")}
        for s in outcome.services
    ]
    assert shown == expected
    documents = [s["openapi"] for s in outcome.services]
    assert documents == [outcome.openapi, usage_api_openapi(), database_api_openapi()]
    assert {s["backend_secret"] for s in outcome.services} == {outcome.secret}
    assert len(outcome.secret) == 43
    assert outcome.catalogue == ["people"]
    assert [tag["name"] for tag in outcome.openapi["tags"]] == ["1.0", "1.1"]


# --- history ---------------------------------------------------------------------------------


def test_the_example_change_has_the_documented_canonical_form_and_hash() -> None:
    check_change(example_json("change-row"), example("change-canonical"), example("change-hash"))


def test_the_first_change_of_the_example_database(outcome: Outcome) -> None:
    row = example_json("change-row")
    assert outcome.first_change == {k: v for k, v in row.items() if k != "at"}
    assert outcome.first_change["previous_hash"] == history.GENESIS
    assert outcome.intact is not None and outcome.intact.intact
    assert outcome.intact.checked == outcome.changes == 8  # 4 creates, 1 update, 3 entries


def test_verification_names_the_first_broken_change(outcome: Outcome) -> None:
    rows = table_rows(section("11.3 Verification"), "| Found |")
    templates = [quoted(row[1])[0] for row in rows]

    def matches(template: str, problem: str | None) -> bool:
        pattern = re.escape(template).replace(re.escape("<n>"), r"\d+")
        return re.fullmatch(pattern.replace(re.escape("<m>"), r"\d+"), problem or "") is not None

    last = outcome.changes
    expected = {
        "missing": (templates[0], 4),
        "relinked": (templates[1], 2),
        "edited": (templates[2], 2),
        "truncated": (templates[3], last),
    }
    for name, (template, seq) in expected.items():
        found = outcome.tampered[name]
        assert not found.intact and matches(template, found.problem), (name, found)
        assert found.seq == seq, (name, found)


# --- the national seed -----------------------------------------------------------------------


def test_the_seven_registries() -> None:
    rows = table_rows(section("13.1 The seven registries"), "| Code |")
    small = {r.code: r for r in national_registries(size="small")}
    large = {r.code: r for r in national_registries(size="large")}
    assert [quoted(row[0])[0] for row in rows] == list(small)
    for code_cell, owner, ecosystem, small_count, large_count in rows:
        code = quoted(code_cell)[0]
        assert quoted(owner)[0] == owner_member(small[code], "IR-DEMO"), code
        assert quoted(ecosystem)[0] == small[code].ecosystem
        assert (int(small_count), int(large_count)) == (small[code].count, large[code].count)


def test_the_persons_search_indexes() -> None:
    persons = next(r for r in national_registries(size="small") if r.code == "persons")
    assert persons.schema["x-search-indexes"] == example_json("persons-search-indexes")
    parse_schema(persons.schema)


def test_the_shareholdings_of_the_ecosystem_operators() -> None:
    rows = table_rows(section("13.3 Shareholdings"), "| Ecosystem |")
    entities = {entity.national_id: entity for entity in FIXED_ENTITIES}
    assert [quoted(row[0])[0] for row in rows] == list(ECOSYSTEM_OPERATORS)
    for key_cell, operator, private, state in rows:
        key = quoted(key_cell)[0]
        assert quoted(operator)[0] == ECOSYSTEM_OPERATORS[key]
        holdings = entities[ECOSYSTEM_OPERATORS[key]].shareholders
        assert float(private) == sum(h.share_percent for h in holdings if not h.state), key
        assert float(state) == sum(h.share_percent for h in holdings if h.state), key
        for holding in holdings:
            if holding.holder_kind != "company":
                assert holding.state is (holding.holder_kind == "member"), (key, holding)


# --- the checks can fail ---------------------------------------------------------------------


def test_the_checks_refuse_altered_examples(schema: RegistrySchema) -> None:
    document = example_json("schema")
    with_one_of = merge_patch(document, {"properties": {"sex": {"oneOf": [{"type": "string"}]}}})
    with pytest.raises(ValidationError, match="/properties/sex/oneOf"):
        parse_schema(with_one_of)
    errors = example_json("schema-refusals")
    with pytest.raises(AssertionError):
        check_refusals(example_json("schema-refused"), errors[1:])
    with pytest.raises(AssertionError, match="not refused"):
        check_refusals(document, errors)
    comparison = example_json("compatible-comparison")
    with pytest.raises(AssertionError):
        check_comparison(document, example_json("version-breaking"), comparison)
    cases = example_json("list-queries")
    cases[1]["conditions"][1][1] = "gt"
    with pytest.raises(AssertionError):
        check_list_queries(schema, cases)
    cases = example_json("list-queries")
    cases[0]["search"] = "علي"  # the Arabic yeh, not the match form
    with pytest.raises(AssertionError):
        check_list_queries(schema, cases)
    with pytest.raises(AssertionError):
        check_list_refusals(schema, [{"query": "query.height_cm.gte=170", "field": "x"}])
    with pytest.raises(AssertionError):
        check_list_refusals(schema, [{"query": "ordering=photo", "field": "filter"}])
    with pytest.raises(AssertionError):
        check_match_forms([["علی\u200cرضا", "علی\u200cرضا", "ZWNJ kept"]])


def test_the_checks_of_times_terms_and_subjects_refuse_altered_examples(
    schema_1_1: RegistrySchema,
) -> None:
    cases = example_json("time-filters")
    cases[0]["conditions"][0][2] = ["08:30:00+03:30"]  # a time term keeps no offset
    with pytest.raises(AssertionError):
        check_time_filters(schema_1_1, cases)
    cases = example_json("time-filters")
    cases[3] = {"query": cases[3]["query"], "conditions": [["birth_time", "gte", ["08:30:00"]]]}
    with pytest.raises(AssertionError, match="refused"):
        check_time_filters(schema_1_1, cases)  # a time without its offset taken as UTC
    cases = example_json("time-filters")
    cases[0] = {"query": cases[0]["query"], "field": "query.birth_time.gte"}
    with pytest.raises(AssertionError, match="not refused"):
        check_time_filters(schema_1_1, cases)
    forms = example_json("term-forms")
    forms[0][2] = forms[0][2].replace("0499", "0499 ")
    with pytest.raises(AssertionError):
        check_term_forms(schema_1_1, forms)
    forms = example_json("term-forms")
    forms[4][2] = "05:00:00+00:00"
    with pytest.raises(AssertionError):
        check_term_forms(schema_1_1, forms)
    document, record = example_json("subject-schema"), example_json("subject-record")
    bare = [subject.lstrip("IRFNLE?") for subject in example_json("typed-subjects")]
    with pytest.raises(AssertionError):
        check_typed_subjects(document, record, bare)


def test_the_history_and_sql_checks_refuse_altered_examples(schema: RegistrySchema) -> None:
    row, canonical, digest = (
        example_json("change-row"),
        example("change-canonical"),
        example("change-hash"),
    )
    with pytest.raises(AssertionError):
        check_change({**row, "record_key": "0499370898"}, canonical, digest)
    with pytest.raises(AssertionError):
        check_change(row, canonical.replace('"seq":1', '"seq":2'), digest)
    with pytest.raises(AssertionError):
        check_change(row, canonical, "0" + digest[1:])
    with pytest.raises(AssertionError):
        check_index_sql(schema, example("index-sql").replace('COLLATE "C"', "", 1))
    link = example_json("list-answer")["next"]
    params = example_json("page-sql-parameters")
    with pytest.raises(AssertionError):
        check_page_sql(schema, link, example("page-sql").replace("DESC", "ASC", 1), params)
    with pytest.raises(AssertionError):
        check_page_sql(schema, link, example("page-sql"), {**params, "cv": 171})
    body, read_sql = example_json("read-request"), example("key-read-sql")
    as_term = read_sql.replace(
        "records.key = :key_1", "json_extract(terms, '$.national_code') = :key_1"
    )
    with pytest.raises(AssertionError):
        check_key_read_sql(schema, body, as_term, PERSON)
    with pytest.raises(AssertionError):
        check_key_read_sql(schema, body, read_sql, "IR" + PERSON)
    schema_1_1 = parse_schema(
        merge_patch(example_json("schema"), example_json("version-compatible"))
    )
    indexes, statistics = example("search-index-sql"), example("statistics-sql")
    with pytest.raises(AssertionError):
        check_search_index_sql(schema_1_1, indexes.replace(", key)", ")", 1), statistics)
    with pytest.raises(AssertionError):
        check_search_index_sql(schema_1_1, indexes, statistics.replace("st_r1_", "st_r2_", 1))
    with pytest.raises(AssertionError):
        check_search_index_sql(schema, indexes, statistics)  # 1.0 has no compound index


def test_the_worked_example_checks_refuse_altered_answers(outcome: Outcome) -> None:
    answer = example_json("read-answer")
    answer["content"]["family_name"] = "رضایی"  # stored as written, not in the match form
    assert outcome.read != answer
    problem = example_json("bad-create-problem")
    problem["errors"] = problem["errors"][:-1]
    assert outcome.bad_create != problem
    refusals = example_json("refusals")
    refusals[0]["field"] = "version"
    assert outcome.refusals != refusals
    page = example_json("list-answer")
    page["results"].reverse()
    assert outcome.pages[0] != page
    entry = example_json("usage-entry")
    with pytest.raises(ValueError, match="Refrences"):
        api_models.PersonalDataUsage.model_validate({**entry, "Refrences": "0499370899"})
