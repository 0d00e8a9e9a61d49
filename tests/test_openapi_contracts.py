"""Every HTTP API's OpenAPI document is honest: schemathesis, run against a throwaway federation
of real processes (a central process and one gateway with its management port), finds no server
error and no contract violation, with credentials and without.

A later API joins by adding one entry to ``APIS``. The run is bounded: deterministic generation
(hypothesis derandomised, so no seed is drawn and no example database is written), a small
example budget per operation, one worker. The federation is this module's own: schemathesis
registers members, groups, keys and clients at random, and no other test may see them.

This module is also the schemathesis hooks module of the run (``SCHEMATHESIS_HOOKS``): it teaches
schemathesis to send the opaque media types, and declares the few rules an OpenAPI document
cannot state (``UNSTATEABLE``), each with its reason. Nothing else is excluded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from zistboom.core import identifiers
from zistboom.core.iran import generate_legal_entity_id, generate_national_code

TESTS = Path(__file__).parent
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
MAX_EXAMPLES = 30

# --- the rules no JSON Schema can state ---------------------------------------------------


@dataclass(frozen=True)
class Unstateable:
    """A refusal of schema-valid data that the document cannot prevent, and why.

    It explains a refusal only with the given status, on the given operations (``None``: every
    operation), when every offending input the problem names is in ``fields`` and its message
    holds ``message`` (for answers that are not problem details: ``media_type``).
    """

    reason: str
    status: int
    operations: frozenset[str] | None = None
    fields: frozenset[str] = frozenset()
    message: str = ""
    media_type: str | None = None

    def explains(self, label: str, status: int, content_type: str, body: bytes) -> bool:
        if status != self.status or (self.operations is not None and label not in self.operations):
            return False
        if self.media_type is not None:
            return content_type.split(";")[0].strip() == self.media_type
        if not content_type.startswith("application/problem+json"):
            return False
        errors = json.loads(body).get("errors") or []
        return bool(errors) and all(
            e.get("field") in self.fields and self.message in e.get("message", "") for e in errors
        )


IDENTIFIER_FIELDS = frozenset(
    {"code", "member_code", "member_id", "client_id", "subsystem_id", "subsystem_code"}
)
UNSTATEABLE = [
    Unstateable(
        "A legal-entity ID's and a national code's last digit is a weighted sum mod 11 of the "
        "others (ZB-STD-001); a pattern states the digits, not the arithmetic.",
        status=422,
        fields=IDENTIFIER_FIELDS | {"contact_national_code"},
        message="wrong check digit",
    ),
    Unstateable(
        "A national code of ten equal digits passes the check digit but is refused; a pattern "
        "without look-ahead (pydantic's engine has none) cannot exclude it.",
        status=422,
        operations=frozenset({"POST /api/v1/members"}),
        fields=frozenset({"contact_national_code"}),
        message="all ten digits are equal",
    ),
    Unstateable(
        "The body is a JWS signed with the holder's current certificate; a schema cannot say "
        "that a signature verifies.",
        status=422,
        operations=frozenset({"POST /api/v1/ca/renew"}),
        fields=frozenset({"request"}),
    ),
    Unstateable(
        "The CSR is a PKCS#10 request (PEM or DER) signed by its own key; a schema describes "
        "the text, not the ASN.1 structure or the signature.",
        status=422,
        operations=frozenset({"POST /api/v1/ca/enrol"}),
        fields=frozenset({"csr"}),
    ),
    Unstateable(
        "Which certificate kinds an enrolment token grants is the token's (central's state); "
        "the request's 'kind' must be one of them.",
        status=422,
        operations=frozenset({"POST /api/v1/ca/enrol"}),
        fields=frozenset({"kind"}),
        message="this token grants",
    ),
    Unstateable(
        "The body is a JWS signed with the provider member's certificate; a schema cannot say "
        "that a signature verifies.",
        status=422,
        operations=frozenset({"POST /api/v1/catalogue/services"}),
        fields=frozenset({"statement"}),
    ),
    Unstateable(
        "The body is a DER-encoded RFC 3161 TimeStampReq; JSON Schema cannot describe DER. The "
        "refusal is the RFC 3161 rejection the document declares.",
        status=400,
        operations=frozenset({"POST /tsa"}),
        media_type="application/timestamp-reply",
    ),
    Unstateable(
        "A gateway always serves its own member: refusing to host the owner depends on the "
        "path's member, which a body schema cannot refer to.",
        status=422,
        operations=frozenset(
            {"POST /api/v1/members/{member_class}/{code}/gateways/{gateway_code}/hosted-members"}
        ),
        fields=frozenset({"member_id"}),
        message="always serves its own member",
    ),
    Unstateable(
        "A local client must be a subsystem of a member this gateway hosts: that is the "
        "gateway's state (its global configuration), not a shape.",
        status=422,
        operations=frozenset({"POST /api/v1/clients"}),
        fields=frozenset({"subsystem_id"}),
        message="which this gateway does not host",
    ),
    Unstateable(
        "The OpenAPI document of a service must be OpenAPI 3.x whose paths can be endpoints "
        "(service.openapi_operations), sent as an object or as YAML text; JSON Schema "
        "cannot parse YAML, and the OpenAPI meta-schema would not state the endpoint rules.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/services",
                "PATCH /api/v1/services/{instance}/{member_class}/{member_code}"
                "/{subsystem_code}/{code}",
            }
        ),
        fields=frozenset({"openapi", "openapi_yaml"}),
    ),
    Unstateable(
        "An access right is revoked for an endpoint by both method and path, or for the whole "
        "service by neither; OpenAPI cannot make two query parameters depend on each other.",
        status=422,
        operations=frozenset(
            {
                "DELETE /api/v1/services/{instance}/{member_class}/{member_code}"
                "/{subsystem_code}/{code}/access"
            }
        ),
        fields=frozenset({"method", "path"}),
        message="give both or neither",
    ),
]


# --- schemathesis hooks (this module is loaded by the schemathesis process) ---------------


def _code_strategy() -> st.SearchStrategy[str]:
    return st.from_regex(identifiers.CODE_PATTERN, fullmatch=True).map(str.strip).filter(bool)


# Valid identifiers for the formats naming check-digit rules, so generated requests get past
# the check digit to the rules behind it (coverage still sends pattern-only values).
_legal_entity_ids = st.randoms(use_true_random=False).map(generate_legal_entity_id)
_member_ids = st.builds(
    lambda instance, member_class, code: f"{instance}/{member_class}/{code}",
    st.sampled_from(identifiers.INSTANCES),
    st.sampled_from(sorted(identifiers.MEMBER_CLASSES)),
    _legal_entity_ids,
)
_subsystem_ids = st.builds(lambda m, c: f"{m}/{c}", _member_ids, _code_strategy())
schemathesis.openapi.format(identifiers.LEGAL_ENTITY_ID_FORMAT, _legal_entity_ids)
schemathesis.openapi.format(identifiers.MEMBER_ID_FORMAT, _member_ids)
schemathesis.openapi.format(identifiers.SUBSYSTEM_ID_FORMAT, _subsystem_ids)
schemathesis.openapi.format(
    identifiers.SERVICE_ID_FORMAT,
    st.builds(lambda s, c: f"{s}/{c}", _subsystem_ids, _code_strategy()),
)
schemathesis.openapi.format(
    identifiers.NATIONAL_CODE_FORMAT, st.randoms(use_true_random=False).map(generate_national_code)
)


@schemathesis.serializer("application/jose", "application/timestamp-query")
def _opaque(ctx: Any, value: Any) -> bytes:
    """JWS and DER bodies are opaque strings or bytes: send them as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


@schemathesis.check
def positive_data_acceptance_of_stated_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except for the refusals ``UNSTATEABLE`` explains."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        label = case.operation.label
        if any(
            u.explains(label, response.status_code, content_type, response.content)
            for u in UNSTATEABLE
        ):
            return None
        raise


CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance_of_stated_rules",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
]


# --- the APIs and the federation they run in ----------------------------------------------


@dataclass
class ContractFederation:
    central_url: str
    central_admin_key: str
    gateway_admin_url: str
    gateway_admin_token: str


@dataclass(frozen=True)
class ApiUnderTest:
    """One HTTP API: where its OpenAPI document is, and the credentials it takes."""

    name: str
    openapi_url: Callable[[ContractFederation], str]
    token: Callable[[ContractFederation], str]


APIS = [
    ApiUnderTest(
        "central",
        lambda f: f"{f.central_url}/openapi.json",
        lambda f: f.central_admin_key,
    ),
    ApiUnderTest(
        "gateway-management",
        lambda f: f"{f.gateway_admin_url}/openapi.json",
        lambda f: f.gateway_admin_token,
    ),
]


@pytest.fixture(scope="module")
def contract_federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractFederation]:
    from federation import start_federation

    federation = start_federation(tmp_path_factory.mktemp("contracts"), None)
    try:
        member = federation.add_member("Contracts", ["app"])
        gateway = federation.add_gateway("gw", member)
        gateway.start()
        yield ContractFederation(
            central_url=federation.central.url,
            central_admin_key=federation.central.admin_key,
            gateway_admin_url=f"http://127.0.0.1:{gateway.admin_port}",
            gateway_admin_token=(gateway.data_dir / "admin-token").read_text().strip(),
        )
    finally:
        federation.stop()


RUNS = [(api, credentials) for api in APIS for credentials in (True, False)]


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("api", "credentials"),
    RUNS,
    ids=[f"{a.name}-{'credentials' if c else 'anonymous'}" for a, c in RUNS],
)
def test_openapi_contract(
    api: ApiUnderTest,
    credentials: bool,
    contract_federation: ContractFederation,
    tmp_path: Path,
) -> None:
    command = [
        SCHEMATHESIS, "run", api.openapi_url(contract_federation),
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "30",
        "--output-truncate", "false",
    ]  # fmt: skip
    if credentials:
        command += ["--header", f"Authorization: Bearer {api.token(contract_federation)}"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": Path(__file__).stem,
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=840
    )
    output = result.stdout + result.stderr
    summary = [line for line in output.splitlines() if line.startswith("=")][-1:]
    print(f"{api.name} ({'with' if credentials else 'without'} credentials) in "
          f"{time.monotonic() - started:.0f} s: {' '.join(summary)}")  # fmt: skip
    assert result.returncode == 0, output
