"""The gateway's management rules on both backends: clients, OpenAPI import and reconciliation,
endpoints, local groups, access rights and the configuration version."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.accreditation import Requirement
from zistboom.core.crypto import keys, x509
from zistboom.core.database import create_engine, migrate, session_factory, transaction, utc_now
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError, ZistboomError
from zistboom.core.iran import generate_legal_entity_id
from zistboom.gateway import service
from zistboom.gateway.access import Access, Registry
from zistboom.gateway.models import AccessRight, Endpoint
from zistboom.gateway.settings import GatewaySettings

rng = random.Random(11)
MEMBER = f"IR-DEMO/GOV/{generate_legal_entity_id(rng)}"
OTHER_MEMBER = f"IR-DEMO/COM/{generate_legal_entity_id(rng)}"
PROVIDER = f"{MEMBER}/registry"
CONSUMER = f"{OTHER_MEMBER}/claims"
OTHER_SUBSYSTEM = f"{OTHER_MEMBER}/audit"


def _conf_with_group(code: str, members: list[str]) -> Any:
    """What ``Registry.access`` reads of a global configuration: its global groups."""
    return SimpleNamespace(global_groups=[SimpleNamespace(code=code, members=members)])


SPECS = Path(__file__).parent / "specs"

PERSONS_V1 = {
    "openapi": "3.0.3",
    "info": {"title": "Persons", "version": "1"},
    "paths": {
        "/persons/{nationalCode}": {
            "parameters": [{"name": "nationalCode", "in": "path", "required": True}],
            "get": {"operationId": "getPerson", "summary": "One person"},
            "delete": {"operationId": "deletePerson"},
        },
        "/persons": {"post": {"operationId": "addPerson", "summary": "Register a person"}},
    },
}
PERSONS_V2 = {
    "openapi": "3.1.0",
    "info": {"title": "Persons", "version": "2"},
    "paths": {
        "/persons/{nationalCode}": {
            "get": {"operationId": "getPersonV2", "summary": "One person, v2"},
        },
        "/persons/{nationalCode}/address": {"get": {"operationId": "getAddress"}},
    },
}


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await migrate(engine, "zistboom.gateway:migrations")
    yield session_factory(engine)
    await engine.dispose()


async def version(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as session:
        return await service.configuration_version(session)


async def with_provider(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        await service.add_client(session, PROVIDER, hosted_members=[MEMBER])


def endpoints_of(entry: service.ServiceEntry) -> set[tuple[str, str, str | None]]:
    return {(e.method, e.path, e.operation_id) for e in entry.endpoints}


# --- clients -------------------------------------------------------------------------------


def test_hosted_members_is_the_member_of_the_gateway_id(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, gateway_id=f"{MEMBER}/gw1")
    assert service.hosted_members(settings) == [MEMBER]
    with pytest.raises(ZistboomError) as error:
        service.hosted_members(GatewaySettings(data_dir=tmp_path, gateway_id=""))
    assert error.value.field == "gateway_id"


async def test_a_client_of_a_member_this_gateway_does_not_host_is_refused(sessions) -> None:
    with pytest.raises(ValidationError) as error:
        async with transaction(sessions) as session:
            await service.add_client(session, CONSUMER, hosted_members=[MEMBER])
    assert error.value.field == "subsystem_id"
    assert OTHER_MEMBER in error.value.detail and "does not host" in error.value.detail
    with pytest.raises(ValidationError) as error:
        async with transaction(sessions) as session:
            await service.add_client(session, "IR-DEMO/GOV/123/x", hosted_members=[MEMBER])
    assert error.value.field == "subsystem_id"
    assert await version(sessions) == 0


async def test_clients_body_logging_and_certificates(sessions) -> None:
    async with transaction(sessions) as session:
        client = await service.add_client(
            session, PROVIDER, hosted_members=[MEMBER], body_logging=False
        )
        assert client.body_logging is False
    with pytest.raises(ConflictError):
        async with transaction(sessions) as session:
            await service.add_client(session, PROVIDER, hosted_members=[MEMBER])
    async with transaction(sessions) as session:
        await service.set_body_logging(session, PROVIDER, True)

    key = keys.generate_private_key()
    cert = x509.create_ca_certificate(key, common_name="information system")
    pem = x509.certificate_pem(cert)
    async with transaction(sessions) as session:
        row = await service.add_client_certificate(session, PROVIDER, pem)
    assert row.fingerprint == hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    with pytest.raises(ConflictError) as conflict:
        async with transaction(sessions) as session:
            await service.add_client_certificate(session, PROVIDER, pem)
    assert conflict.value.field == "certificate"
    with pytest.raises(ValidationError) as garbage:
        async with transaction(sessions) as session:
            await service.add_client_certificate(session, PROVIDER, "not a certificate")
    assert garbage.value.field == "certificate"
    expired = x509.create_ca_certificate(
        key, common_name="old", now=utc_now() - timedelta(days=20), validity=timedelta(days=10)
    )
    with pytest.raises(ValidationError, match="expired"):
        async with transaction(sessions) as session:
            await service.add_client_certificate(session, PROVIDER, x509.certificate_pem(expired))

    async with transaction(sessions) as session:
        [entry] = await service.list_clients(session)
    assert entry.client.body_logging is True
    assert [c.fingerprint for c in entry.certificates] == [row.fingerprint]

    async with transaction(sessions) as session:
        await service.remove_client_certificate(session, PROVIDER, row.fingerprint.upper())
        assert (await service.client_entry(session, PROVIDER)).certificates == []


async def test_removing_a_client_removes_its_services_groups_and_rights(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b", openapi=PERSONS_V1)
        await service.add_local_group(session, PROVIDER, "insurers")
        await service.grant(session, PROVIDER, "persons", "local-group", "insurers")
        await service.grant(
            session, PROVIDER, "persons", "subsystem", CONSUMER, ("GET", "/persons/{nationalCode}")
        )
    async with transaction(sessions) as session:
        await service.remove_client(session, PROVIDER)
    async with transaction(sessions) as session:
        assert await service.list_clients(session) == []
        assert await service.list_services(session) == []
        assert (await session.execute(select(AccessRight))).first() is None
        assert (await session.execute(select(Endpoint))).first() is None
    with pytest.raises(NotFoundError) as error:
        async with transaction(sessions) as session:
            await service.list_services(session, PROVIDER)
    assert error.value.field == "subsystem_id"


# --- services, OpenAPI and endpoints ---------------------------------------------------------


async def test_openapi_import_creates_one_endpoint_per_operation(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        entry = await service.add_service(
            session,
            PROVIDER,
            "persons",
            "https://registry.internal:8443/api",
            description="  Persons of the civil registry  ",
            ecosystem="tax",
            service_kind="person-inquiry",
            openapi=PERSONS_V1,
            personal_data=True,
            timeout=12.5,
            max_body_bytes=65536,
        )
    assert entry.service_id == f"{PROVIDER}/persons"
    assert entry.service.description == "Persons of the civil registry"
    assert endpoints_of(entry) == {
        ("GET", "/persons/{nationalCode}", "getPerson"),
        ("DELETE", "/persons/{nationalCode}", "deletePerson"),
        ("POST", "/persons", "addPerson"),
    }
    summaries = {e.operation_id: e.summary for e in entry.endpoints}
    assert summaries["addPerson"] == "Register a person"

    # The vendored GovStack specification, as YAML text (integer response codes included).
    document = service.openapi_from_yaml((SPECS / "GovStack_IM_Service_Metadata.yaml").read_text())
    async with transaction(sessions) as session:
        govstack = await service.add_service(
            session, PROVIDER, "metadata", "http://127.0.0.1:9000", openapi=document
        )
    assert {e.operation_id for e in govstack.endpoints} == {
        "listClients",
        "listMethods",
        "allowedMethods",
        "getOpenAPI",
    }
    assert all(e.method == "GET" for e in govstack.endpoints)
    assert govstack.service.openapi is not None
    assert govstack.service.openapi["info"]["version"] == "0.3"

    async with transaction(sessions) as session:
        listed = await service.list_services(session)
    assert [e.service.code for e in listed] == ["metadata", "persons"]
    assert len(listed[1].endpoints) == 3


async def test_reimporting_openapi_reconciles_endpoints_and_their_rights(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b", openapi=PERSONS_V1)
        await service.add_endpoint(session, PROVIDER, "persons", "*", "/health/**")
        await service.grant(
            session,
            PROVIDER,
            "persons",
            "subsystem",
            CONSUMER,
            ("DELETE", "/persons/{nationalCode}"),
        )
        await service.grant(
            session, PROVIDER, "persons", "subsystem", CONSUMER, ("GET", "/persons/{nationalCode}")
        )
        await service.grant(
            session, PROVIDER, "persons", "subsystem", CONSUMER, ("*", "/health/**")
        )

    async with transaction(sessions) as session:
        entry = await service.update_service(session, PROVIDER, "persons", openapi=PERSONS_V2)
    assert endpoints_of(entry) == {
        ("GET", "/persons/{nationalCode}", "getPersonV2"),  # kept, renamed
        ("GET", "/persons/{nationalCode}/address", "getAddress"),  # new
        ("*", "/health/**", None),  # added by hand: not the document's to remove
    }
    async with transaction(sessions) as session:
        rights = await service.list_access_rights(session, PROVIDER, "persons")
    assert {(r.method, r.path) for r in rights} == {
        ("GET", "/persons/{nationalCode}"),
        ("*", "/health/**"),
    }

    # Dropping the document drops what it described, nothing else.
    async with transaction(sessions) as session:
        entry = await service.update_service(session, PROVIDER, "persons", openapi=None)
    assert endpoints_of(entry) == {("*", "/health/**", None)}
    assert entry.service.openapi is None


async def test_bad_openapi_documents_are_refused(sessions) -> None:
    await with_provider(sessions)
    cases = [
        {"swagger": "2.0", "paths": {}},
        {"openapi": "2.0", "paths": {}},
        {"openapi": "3.0.0", "paths": []},
        {"openapi": "3.0.0", "paths": {"persons": {"get": {}}}},
        {"openapi": "3.0.0", "paths": {"/a/../b": {"get": {}}}},
        {"openapi": "3.0.0", "paths": {"/a": {"get": "not an operation"}}},
    ]
    for document in cases:
        with pytest.raises(ValidationError) as error:
            async with transaction(sessions) as session:
                await service.add_service(session, PROVIDER, "x", "http://b", openapi=document)
        assert error.value.field == "openapi", document
    assert await version(sessions) == 1  # only the client was added


def test_yaml_aliases_and_non_mappings_are_refused() -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(ValidationError, match="aliases") as error:
        service.openapi_from_yaml(bomb)
    assert error.value.field == "openapi_yaml"
    with pytest.raises(ValidationError, match="mapping"):
        service.openapi_from_yaml("- a\n- b\n")
    with pytest.raises(ValidationError, match="not valid YAML"):
        service.openapi_from_yaml("a: [unclosed\n")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://files.example.ir/x",
        "http://user:secret@backend.internal/",
        "https://user@backend.internal/",
        "backend.internal/api",
        "//backend.internal/api",
        "gopher://backend.internal:70/",
        "javascript:alert(1)",
        "http:///no-host",
        "http://backend.internal:99999/",
        "http://backend.internal/ with space",
        "http://backend.internal/#fragment",
        "",
    ],
)
def test_backend_urls_other_than_plain_http_s_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as error:
        service.validate_backend_url(url)
    assert error.value.field == "backend_url"


def test_plain_http_and_https_backend_urls_are_accepted() -> None:
    for url in (
        "http://127.0.0.1:8080",
        "https://registry.internal/api/v1",
        "HTTPS://[::1]:8443/x?y=1",
    ):
        assert service.validate_backend_url(url) == url


async def test_service_fields_are_validated_naming_the_field(sessions) -> None:
    await with_provider(sessions)
    cases = [
        ({"backend_url": "file:///etc/passwd"}, "backend_url"),
        ({"backend_url": "http://u:p@h/"}, "backend_url"),
        ({"code": "per sons"}, "code"),
        ({"code": ".."}, "code"),
        ({"ecosystem": "Tax Ecosystem"}, "ecosystem"),
        ({"service_kind": "a/b"}, "service_kind"),
        ({"timeout": 0.0}, "timeout"),
        ({"max_body_bytes": -1}, "max_body_bytes"),
        ({"description": "x" * 10_001}, "description"),
    ]
    for change, field in cases:
        arguments = {"code": "persons", "backend_url": "http://b", **change}
        code, url = arguments.pop("code"), arguments.pop("backend_url")
        with pytest.raises(ValidationError) as error:
            async with transaction(sessions) as session:
                await service.add_service(session, PROVIDER, code, url, **arguments)
        assert error.value.field == field, change
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b")
    with pytest.raises(ConflictError) as conflict:
        async with transaction(sessions) as session:
            await service.add_service(session, PROVIDER, "persons", "http://c")
    assert conflict.value.field == "code"
    with pytest.raises(ValidationError) as error:
        async with transaction(sessions) as session:
            await service.update_service(session, PROVIDER, "persons", backend_url="ftp://x/")
    assert error.value.field == "backend_url"
    with pytest.raises(NotFoundError) as missing:
        async with transaction(sessions) as session:
            await service.update_service(session, PROVIDER, "nope", description="x")
    assert missing.value.field == "code"


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("FETCH", "/a", "method"),
        ("GET", "a", "path"),
        ("GET", "/a//b", "path"),
        ("GET", "/a/**/b", "path"),
        ("GET", "/a/../b", "path"),
        ("GET", "/a b", "path"),
        ("GET", "/a?b=1", "path"),
        ("GET", "/a/{b", "path"),
    ],
)
def test_endpoint_methods_and_paths_are_validated(method: str, path: str, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        service.validate_method(method)
        service.validate_path(path)
    assert error.value.field == field


def test_endpoint_patterns_accepted() -> None:
    for path in ("/", "/persons/{nationalCode}", "/a/*/c", "/**", "/files/{name}.json", "/a/"):
        assert service.validate_path(path) == path
    assert service.validate_method("get") == "GET"
    assert service.validate_method("*") == "*"


@given(st.text(max_size=60))
def test_path_validation_refuses_only_with_a_validation_error(text: str) -> None:
    try:
        accepted = service.validate_path(text)
    except ValidationError as error:
        refused_field = error.field
    else:
        refused_field = None
    if refused_field is not None:
        assert refused_field == "path"
        return
    assert accepted.startswith("/")
    assert "/../" not in accepted + "/" and "?" not in accepted and "#" not in accepted


async def test_endpoints_by_hand(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "files", "http://b")
        endpoint = await service.add_endpoint(session, PROVIDER, "files", "get", "/files/*")
    assert (endpoint.method, endpoint.path) == ("GET", "/files/*")
    with pytest.raises(ConflictError):
        async with transaction(sessions) as session:
            await service.add_endpoint(session, PROVIDER, "files", "GET", "/files/*")
    async with transaction(sessions) as session:
        await service.grant(session, PROVIDER, "files", "subsystem", CONSUMER, ("GET", "/files/*"))
        await service.remove_endpoint(session, PROVIDER, "files", "GET", "/files/*")
        assert await service.list_access_rights(session, PROVIDER, "files") == []
    with pytest.raises(NotFoundError) as error:
        async with transaction(sessions) as session:
            await service.remove_endpoint(session, PROVIDER, "files", "GET", "/files/*")
    assert error.value.field == "path"


# --- access rights and local groups ----------------------------------------------------------


async def test_access_rights_grant_revoke_and_duplicates(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b", openapi=PERSONS_V1)
        whole = await service.grant(session, PROVIDER, "persons", "subsystem", CONSUMER)
        one = await service.grant(
            session,
            PROVIDER,
            "persons",
            "subsystem",
            CONSUMER,
            ("get", "/persons/{nationalCode}"),
        )
        group = await service.grant(session, PROVIDER, "persons", "global-group", "insurers")
    assert (whole.method, whole.path) == (None, None)
    assert (one.method, one.path) == ("GET", "/persons/{nationalCode}")
    assert group.right.subject == "insurers"

    # The whole-service right has a NULL endpoint: the duplicate check must not rely on the
    # unique constraint.
    for endpoint in (None, ("GET", "/persons/{nationalCode}")):
        with pytest.raises(ConflictError) as duplicate:
            async with transaction(sessions) as session:
                await service.grant(session, PROVIDER, "persons", "subsystem", CONSUMER, endpoint)
        assert duplicate.value.field == "subject"

    refusals = [
        (("subsystem", "IR-DEMO/GOV/1/x", None), ValidationError, "subject"),
        (
            ("subsystem", OTHER_MEMBER, None),
            ValidationError,
            "subject",
        ),  # a member, not a subsystem
        (("global-group", "bad group", None), ValidationError, "subject"),
        (("local-group", "nobody", None), NotFoundError, "subject"),
        (("friends", CONSUMER, None), ValidationError, "subject_kind"),
        (("subsystem", CONSUMER, ("GET", "/unknown")), NotFoundError, "path"),
        (("subsystem", CONSUMER, ("FETCH", "/persons")), ValidationError, "method"),
    ]
    for (kind, subject, endpoint), error_type, field in refusals:
        with pytest.raises(error_type) as error:
            async with transaction(sessions) as session:
                await service.grant(session, PROVIDER, "persons", kind, subject, endpoint)
        assert error.value.field == field, (kind, subject, endpoint)

    async with transaction(sessions) as session:
        rights = await service.list_access_rights(session, PROVIDER, "persons")
    assert {(r.right.subject_kind, r.right.subject, r.method) for r in rights} == {
        ("subsystem", CONSUMER, None),
        ("subsystem", CONSUMER, "GET"),
        ("global-group", "insurers", None),
    }

    async with transaction(sessions) as session:
        await service.revoke(session, PROVIDER, "persons", "subsystem", CONSUMER)
        rights = await service.list_access_rights(session, PROVIDER, "persons")
    assert {(r.right.subject, r.method) for r in rights} == {(CONSUMER, "GET"), ("insurers", None)}
    with pytest.raises(NotFoundError) as gone:
        async with transaction(sessions) as session:
            await service.revoke(session, PROVIDER, "persons", "subsystem", CONSUMER)
    assert gone.value.field == "subject"


async def test_a_right_may_require_an_accreditation_and_the_snapshot_carries_it(sessions) -> None:
    await with_provider(sessions)
    requirement = Requirement("tax", "e-invoice-provider", "substantial")
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "invoices", "http://b")
        entry = await service.grant(
            session, PROVIDER, "invoices", "subsystem", CONSUMER, requirement=requirement
        )
        await service.grant(session, PROVIDER, "invoices", "global-group", "insurers")
    assert entry.requirement == requirement
    async with transaction(sessions) as session:
        rights = await service.list_access_rights(session, PROVIDER, "invoices")
    assert {(r.right.subject, r.requirement) for r in rights} == {
        (CONSUMER, requirement),
        ("insurers", None),
    }

    registry = Registry(sessions)
    await registry.reload(force=True)
    invoices = registry.service(PROVIDER, "invoices")
    assert invoices is not None
    conf = _conf_with_group("insurers", [OTHER_SUBSYSTEM])
    assert registry.access(invoices, CONSUMER, "GET", "/x", conf) == Access(False, (requirement,))
    assert registry.access(invoices, OTHER_SUBSYSTEM, "GET", "/x", conf).allowed
    assert registry.access(invoices, f"{CONSUMER}-2", "GET", "/x", conf) == Access(False, ())

    for bad, field in (
        (Requirement("tax", "e-invoice-provider", "supreme"), "accreditation.level"),  # type: ignore[arg-type]
        (Requirement("Tax Office", "e-invoice-provider"), "accreditation.ecosystem"),
        (Requirement("tax", ""), "accreditation.kind"),
    ):
        with pytest.raises(ValidationError) as refused:
            async with transaction(sessions) as session:
                await service.grant(
                    session, PROVIDER, "invoices", "subsystem", OTHER_SUBSYSTEM, requirement=bad
                )
        assert refused.value.field == field


async def test_local_groups_as_subjects(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b")
        await service.add_local_group(session, PROVIDER, "insurers", "insurance companies")
        entry = await service.add_local_group_member(session, PROVIDER, "insurers", CONSUMER)
        assert entry.members == [CONSUMER]
        await service.grant(session, PROVIDER, "persons", "local-group", "insurers")
    with pytest.raises(ConflictError):
        async with transaction(sessions) as session:
            await service.add_local_group(session, PROVIDER, "insurers")
    with pytest.raises(ConflictError) as twice:
        async with transaction(sessions) as session:
            await service.add_local_group_member(session, PROVIDER, "insurers", CONSUMER)
    assert twice.value.field == "member_id"
    with pytest.raises(ValidationError) as bad_member:
        async with transaction(sessions) as session:
            await service.add_local_group_member(session, PROVIDER, "insurers", OTHER_MEMBER)
    assert bad_member.value.field == "member_id"

    # A group belongs to the subsystem that defined it: another provider cannot use it.
    second = f"{MEMBER}/licences"
    async with transaction(sessions) as session:
        await service.add_client(session, second, hosted_members=[MEMBER])
        await service.add_service(session, second, "licences", "http://b")
    with pytest.raises(NotFoundError) as foreign:
        async with transaction(sessions) as session:
            await service.grant(session, second, "licences", "local-group", "insurers")
    assert foreign.value.field == "subject"

    async with transaction(sessions) as session:
        entry = await service.remove_local_group_member(session, PROVIDER, "insurers", CONSUMER)
        assert entry.members == []
        [listed] = await service.list_local_groups(session, PROVIDER)
        assert listed.group.description == "insurance companies"
        await service.remove_local_group(session, PROVIDER, "insurers")
        assert await service.list_access_rights(session, PROVIDER, "persons") == []
        assert await service.list_local_groups(session) == []


async def test_every_change_bumps_the_configuration_version_once(sessions) -> None:
    assert await version(sessions) == 0
    key = keys.generate_private_key()
    pem = x509.certificate_pem(x509.create_ca_certificate(key, common_name="is"))
    fingerprint = x509.certificate_fingerprint(x509.load_certificate(pem))
    changes = [
        lambda s: service.add_client(s, PROVIDER, hosted_members=[MEMBER]),
        lambda s: service.set_body_logging(s, PROVIDER, False),
        lambda s: service.add_client_certificate(s, PROVIDER, pem),
        lambda s: service.remove_client_certificate(s, PROVIDER, fingerprint),
        lambda s: service.add_service(s, PROVIDER, "persons", "http://b", openapi=PERSONS_V1),
        lambda s: service.update_service(s, PROVIDER, "persons", openapi=PERSONS_V2),
        lambda s: service.update_service(s, PROVIDER, "persons", backend_url="https://c"),
        lambda s: service.add_endpoint(s, PROVIDER, "persons", "POST", "/x"),
        lambda s: service.remove_endpoint(s, PROVIDER, "persons", "POST", "/x"),
        lambda s: service.add_local_group(s, PROVIDER, "friends"),
        lambda s: service.add_local_group_member(s, PROVIDER, "friends", CONSUMER),
        lambda s: service.grant(s, PROVIDER, "persons", "local-group", "friends"),
        lambda s: service.revoke(s, PROVIDER, "persons", "local-group", "friends"),
        lambda s: service.remove_local_group_member(s, PROVIDER, "friends", CONSUMER),
        lambda s: service.remove_local_group(s, PROVIDER, "friends"),
        lambda s: service.remove_service(s, PROVIDER, "persons"),
        lambda s: service.remove_client(s, PROVIDER),
    ]
    for number, change in enumerate(changes, start=1):
        async with transaction(sessions) as session:
            await change(session)
        assert await version(sessions) == number

    # A refused change is rolled back with its bump; unchanged body logging bumps nothing.
    with pytest.raises(NotFoundError):
        async with transaction(sessions) as session:
            await service.set_body_logging(session, PROVIDER, True)
    assert await version(sessions) == len(changes)


async def test_mark_published_records_the_time_without_a_configuration_change(sessions) -> None:
    await with_provider(sessions)
    async with transaction(sessions) as session:
        await service.add_service(session, PROVIDER, "persons", "http://b")
    before = await version(sessions)
    moment = utc_now()
    async with transaction(sessions) as session:
        await service.mark_published(session, PROVIDER, "persons", moment)
    async with transaction(sessions) as session:
        entry = await service.service_entry(session, PROVIDER, "persons")
    assert entry.service.published_at == moment
    assert await version(sessions) == before
