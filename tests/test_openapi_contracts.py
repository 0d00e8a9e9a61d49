"""Every HTTP API's OpenAPI document is honest: schemathesis, run against a throwaway federation
of real processes (a central process, one gateway with its management port, and behind that
gateway a registry service with one published test registry, the documents hub and a documents
issuer; beside them the development identity provider), finds no server error and no contract
violation, with credentials and without.

The APIs are central's, the gateway's management API, the registry service's own, the Data API
document the test registry publishes to its gateway (called as the gateway calls the registry),
the documents hub's (public, management and exchange services), the issuer's and the identity
provider's. A later API joins by adding one entry to ``APIS``. The run is bounded: deterministic
generation (hypothesis derandomised, so no seed is drawn and no example database is written), a
small example budget per operation, one worker. The federation is this module's own:
schemathesis registers members, groups, keys, clients and records at random, and no other test
may see them.

This module is also the schemathesis hooks module of the run (``SCHEMATHESIS_HOOKS``): it teaches
schemathesis to send the opaque media types, and declares the few rules an OpenAPI document
cannot state (``UNSTATEABLE``), each with its reason. Nothing else is excluded (a refused body
the document itself does not allow was never schema-valid: ``_body_breaks_its_schema``).
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NOT_SET, media_types
from schemathesis.core.jsonschema import make_validator
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from zistboom.core import identifiers
from zistboom.core.iran import generate_legal_entity_id, generate_national_code

if TYPE_CHECKING:  # the hooks process imports this module: the federation's parts load lazily
    from federation import Federation, GatewayProcess, ServiceProcess

TESTS = Path(__file__).parent
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
MAX_EXAMPLES = 30
OWN_CLIENT = "ZB_CONTRACT_OWN_CLIENT"  # tells the hooks a client of the registry's own agency

# --- the rules no JSON Schema can state ---------------------------------------------------


@dataclass(frozen=True)
class Unstateable:
    """A refusal of schema-valid data that the document cannot prevent, and why.

    It explains a refusal only with the given status, on the given operations (``None``: every
    operation), when every offending input the problem names is in ``fields`` (or is one of
    ``pointers`` or below it) and its message holds ``message`` (for answers that are not
    problem details: ``media_type``).
    """

    reason: str
    status: int
    operations: frozenset[str] | None = None
    fields: frozenset[str] = frozenset()
    message: str = ""
    media_type: str | None = None
    pointers: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    """Regular expressions an offending input may fully match (dotted paths with indexes)."""

    def explains(self, label: str, status: int, content_type: str, body: bytes) -> bool:
        return explained(label, status, content_type, body, (self,))

    def applies(self, label: str, status: int) -> bool:
        return status == self.status and (self.operations is None or label in self.operations)

    def explains_error(self, error: dict[str, Any]) -> bool:
        """Whether one error of a problem is this rule's."""
        return self._names(error.get("field", "")) and self.message in error.get("message", "")

    def _names(self, field: str) -> bool:
        return (
            field in self.fields
            or any(field == pointer or field.startswith(pointer + "/") for pointer in self.pointers)
            or any(re.fullmatch(pattern, field) for pattern in self.patterns)
        )


def explained(
    label: str, status: int, content_type: str, body: bytes, rules: Sequence[Unstateable]
) -> bool:
    """Whether ``rules`` explain a refusal: an answer of a rule's media type, or a problem each
    of whose errors one of the rules explains (a body may break several rules at once)."""
    rules = [r for r in rules if r.applies(label, status)]
    media_type = content_type.split(";")[0].strip()
    if any(r.media_type is not None and r.media_type == media_type for r in rules):
        return True
    if not content_type.startswith("application/problem+json"):
        return False
    errors = json.loads(body).get("errors") or []
    problem_rules = [r for r in rules if r.media_type is None]
    return bool(errors) and all(any(r.explains_error(e) for r in problem_rules) for e in errors)


IDENTIFIER_FIELDS = frozenset(
    {
        "agency",
        "code",
        "member_code",
        "member_id",
        "client_id",
        "subsystem_id",
        "subsystem_code",
        "owner",
        "X-Road-Client",
        "X-Road-UserId",
        "/options/holder",
        "/options/subjectId",
        "/credential/credentialSubject/id",
    }
)
TEST_REGISTRY = "people"
TEST_VERSION = "1.0"  # the version of tests/registries/data/people-1.0.yaml
DATA_API_BODIES = frozenset(
    f"{method} /data/{{code}}/{{version}}/{operation}"
    for method, operation in (
        ("POST", "read"),
        ("POST", "exists"),
        ("POST", "create"),
        ("PUT", "update"),
        ("PUT", "update-entries"),
        ("POST", "update-or-create"),
    )
)
WINDOW_DEFINITION_WRITES = frozenset({"PUT /api/v1/services/{code}", "POST /api/v1/services"})
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
        operations=frozenset({"POST /api/v1/members", "POST /credentials/issue"}),
        fields=frozenset(
            {
                "contact_national_code",
                "/options/holder",
                "/options/subjectId",
                "/credential/credentialSubject/id",
            }
        ),
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
    Unstateable(
        "A registry schema is the documented subset of JSON Schema 2020-12 with the registry's "
        "flags (one top-level x-key, a subject wherever there is personal data, each field's "
        "kind and keywords; ZB-STD-006 §2), checked by registries.schema.parse_schema: a "
        "schema of the request could state only its outline, an object.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/registries",
                "POST /api/v1/registries/{code}/versions",
                "POST /database-api/database/modify",
            }
        ),
        pointers=("/schema",),
    ),
    Unstateable(
        "The registry service's own document serves every registry: the records in "
        "query.content and write.content are each registry's, which that registry's own "
        "document states exactly (and the registry-data-api run checks).",
        status=422,
        operations=DATA_API_BODIES,
        pointers=("/query/content", "/write/content"),
    ),
    Unstateable(
        "A list takes at most 20 query.* conditions in all (query.MAX_FILTERS); OpenAPI can "
        "bound each parameter, not how many of them a request gives.",
        status=422,
        operations=frozenset({f"GET /{TEST_VERSION}"}),
        fields=frozenset({"query"}),
        message="query.* conditions",
    ),
    Unstateable(
        "A cursor is one the registry gave (an encoded position in a page's next or previous "
        "link), and a list with asOf pages forward only; a schema can state a string, not "
        "which strings the registry has handed out.",
        status=422,
        operations=frozenset({f"GET /{TEST_VERSION}"}),
        fields=frozenset({"cursor"}),
        message="cursor",
    ),
    Unstateable(
        "A list with asOf is in key order only: OpenAPI cannot make the ordering parameter "
        "depend on the asOf parameter.",
        status=422,
        operations=frozenset({f"GET /{TEST_VERSION}"}),
        fields=frozenset({"ordering"}),
        message="a list with asOf is in key order only",
    ),
    Unstateable(
        "A read with asOf names the record by its key alone: OpenAPI cannot make the body's "
        "schema depend on a query parameter.",
        status=422,
        operations=frozenset({f"POST /{TEST_VERSION}/read"}),
        fields=frozenset({"/query/content"}),
        message="a read with asOf names the record by its key",
    ),
    Unstateable(
        "A record's key cannot change: a write may name the key only with the value of the "
        "record the query found, which is stored data.",
        status=422,
        operations=frozenset(
            {
                f"PUT /{TEST_VERSION}/update",
                f"PUT /{TEST_VERSION}/update-entries",
                f"POST /{TEST_VERSION}/update-or-create",
            }
        ),
        pointers=("/write/content",),
        message="is the key and cannot change",
    ),
    Unstateable(
        "An application's subject is the applicant member itself or one of its registered "
        "subsystems or services: a schema cannot make one field equal to a part of another, "
        "and the subsystems are central's state.",
        status=422,
        operations=frozenset({"POST /api/v1/accreditation/applications"}),
        fields=frozenset({"subject"}),
    ),
    Unstateable(
        "An evidence file is never empty: the document says so (minLength 1 on the binary "
        "body), but a binary body is generated as bytes, which JSON Schema's string keywords "
        "do not constrain.",
        status=422,
        operations=frozenset({"POST /api/v1/accreditation/applications/{app_id}/evidence"}),
        fields=frozenset({"content"}),
        message="the evidence file is empty",
    ),
    Unstateable(
        "A criterion named by an application's evidence or review is one of its scheme's "
        "criteria, which are stored data.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/accreditation/applications/{app_id}/evidence",
                "POST /api/v1/accreditation/applications/{app_id}/criteria/{criterion}/review",
            }
        ),
        fields=frozenset({"criterion"}),
        message="has no criterion",
    ),
    Unstateable(
        "An evidence upload may carry the SHA-256 its sender computed; whether it is the "
        "digest of the body is arithmetic over the body, which no schema states.",
        status=422,
        operations=frozenset({"POST /api/v1/accreditation/applications/{app_id}/evidence"}),
        fields=frozenset({"sha256"}),
        message="it changed on the way",
    ),
    Unstateable(
        "An evidence file's name is stripped and may not be '.' or '..' nor hold a path "
        "separator or a control character: a pattern without look-ahead (pydantic's engine "
        "has none) cannot exclude the two names; and its media type is the request's "
        "Content-Type, which the document's '*/*' body leaves open.",
        status=422,
        operations=frozenset({"POST /api/v1/accreditation/applications/{app_id}/evidence"}),
        fields=frozenset({"filename", "content-type"}),
    ),
    Unstateable(
        "The levels an application may ask for and a decision may grant, and the longest "
        "validity, are the scheme's and the application's, which are stored data.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/accreditation/applications",
                "POST /api/v1/accreditation/applications/{app_id}/decision",
            }
        ),
        fields=frozenset({"level", "validity_days"}),
    ),
    Unstateable(
        "Assessor authority goes to a live key whose role is assessor and that names its "
        "member: a key's role, revocation and member are central's state.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/accreditation/assessors",
                "POST /api/v1/accreditation/assessors/{asr_id}/delegations",
            }
        ),
        fields=frozenset({"key_id"}),
    ),
    Unstateable(
        "A recognition is of another ecosystem's scheme: which ecosystem owns the named scheme "
        "is stored data.",
        status=422,
        operations=frozenset({"POST /api/v1/accreditation/recognitions"}),
        fields=frozenset({"ecosystem"}),
        message="recognition is between ecosystems",
    ),
    Unstateable(
        "A recognition's valid_until must be later than its valid_from, which is the moment of "
        "the request when not given: a schema cannot compare with the clock.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/accreditation/recognitions",
                "POST /api/v1/accreditation/recognitions/{rec_id}/versions",
            }
        ),
        fields=frozenset({"valid_until"}),
        message="valid_until must be later than valid_from",
    ),
    Unstateable(
        "A recognition's valid_until must not be past already: a schema cannot compare with "
        "the clock.",
        status=422,
        operations=frozenset(
            {
                "POST /api/v1/accreditation/recognitions",
                "POST /api/v1/accreditation/recognitions/{rec_id}/versions",
            }
        ),
        fields=frozenset({"valid_until"}),
        message="valid_until is already past",
    ),
    Unstateable(
        "update-or-create creates the record from the query's and the write's fields together "
        "when none matches: whether they hold every required field depends on the stored data "
        "(an update needs only the write's fields).",
        status=422,
        operations=frozenset({f"POST /{TEST_VERSION}/update-or-create"}),
        pointers=("/write/content",),
        message="is missing: the field is required",
    ),
    Unstateable(
        "A deposited document is a VC-JWT of ZB-STD-008 signed by the caller's doc certificate "
        "with a timestamp token over its signature: a schema states the compact JWS's outline, "
        "not the JSON inside its base64url, its signature or the token's.",
        status=422,
        operations=frozenset({"POST /exchange/documents/documents"}),
        fields=frozenset({"credential", "timestampToken"}),
    ),
    Unstateable(
        "A subjectId of eleven digits names a business holder, whose legal-entity ID may not "
        "have all of its fourth to ninth digits zero; the pattern of a subjectId, any registry "
        "key, cannot exclude those without look-ahead (pydantic's engine has none).",
        status=422,
        operations=frozenset({"POST /credentials/issue"}),
        fields=frozenset({"/options/subjectId"}),
        message="its fourth to ninth digits are all zero",
    ),
    Unstateable(
        "A status list is a BitstringStatusListCredential signed as a VC-JWT by the calling "
        "member's doc certificate, for the URL it is put at: a schema states the compact "
        "JWS's outline, not the JSON inside its base64url nor its signature.",
        status=422,
        operations=frozenset({"PUT /exchange/documents/status-lists/{list_id}/{purpose}"}),
        fields=frozenset({"/"}),
    ),
    Unstateable(
        "A share's expires_at must lie in the future (and at most max_share_days ahead): a "
        "schema cannot compare with the clock.",
        status=422,
        operations=frozenset({"POST /exchange/lockers/lockers/shares"}),
        fields=frozenset({"expires_at"}),
    ),
    Unstateable(
        "OAuth 2.0 answers a refused authorization request whose client is not registered, or "
        "whose redirect_uri is not one the client registered exactly, with a page (400) and "
        "never a redirect (RFC 6749 §4.1.2.1); which clients and URIs are registered is the "
        "identity provider's state. The same holds for RP-initiated logout's "
        "post_logout_redirect_uri and its id_token_hint, an ID token the provider signed.",
        status=400,
        operations=frozenset({"GET /authorize", "GET /end_session"}),
        media_type="text/html",
    ),
    Unstateable(
        "A token request is refused with 400 and an RFC 6749 §5.2 error (invalid_request, "
        "invalid_grant, unsupported_grant_type): whether an authorization code was issued, to "
        "whom, for which redirect URI and PKCE challenge is the provider's state, and the "
        "protocol, not a schema, says which parameters go together.",
        status=400,
        operations=frozenset({"POST /token"}),
        media_type="application/json",
    ),
    Unstateable(
        "A document type's subject schema must be valid against the JSON Schema 2020-12 "
        "meta-schema (and label its x-code-lists), its templates must parse as Jinja2, and its "
        "registry mapping may name only fields of its schema: the document states the schema's "
        "outline; the meta-schema, a template language and a reference between two members "
        "are not JSON Schema keywords of the request.",
        status=422,
        operations=frozenset({"POST /api/v1/admin/document-types"}),
        fields=frozenset({"schema", "template_fa", "template_en", "body"}),
    ),
    Unstateable(
        "A service definition names registries' services and steps' agencies by identifiers "
        "whose member code has a check digit (ZB-STD-001); a pattern states the digits, not "
        "the arithmetic.",
        status=422,
        operations=WINDOW_DEFINITION_WRITES,
        fields=frozenset({"provider_service"}),
        patterns=(
            r"(?:[0-9]+\.)?(?:base_data\.[0-9]+\.registry|steps\.[0-9]+\.agencies\.[0-9]+)",
            r"[0-9]+\.provider_service",
        ),
        message="check digit",
    ),
    Unstateable(
        "A service definition's rules between its members (ZB-STD-010 §4): every step named "
        "in 'after' exists, the steps form no cycle, a step key is used once, and every name a "
        "form requires is one of its properties; a JSON Schema cannot refer from one member's "
        "value to another's.",
        status=422,
        operations=WINDOW_DEFINITION_WRITES,
        fields=frozenset({"steps"}),
        patterns=(
            r"(?:[0-9]+\.)?steps(?:\.[0-9]+\.(?:key|after\.[0-9]+))?",
            r"(?:[0-9]+\.)?form\.required\.[0-9]+",
            r"(?:[0-9]+\.)?form\.properties\.[^.]+\.pattern",
        ),
    ),
    Unstateable(
        "A base-data item's members between themselves (ZB-STD-010 1.1 rule 5): a record is "
        "read by find_by or by asked, not both; about needs one of them; find_by is one of the "
        "items read; and an asked key's pattern is a regular expression Python compiles. A JSON "
        "Schema cannot compare one member's value with another's, nor say which dialect.",
        status=422,
        operations=WINDOW_DEFINITION_WRITES,
        patterns=(r"(?:[0-9]+\.)?base_data\.[0-9]+\.(?:asked|asked\.pattern|about|find_by)",),
    ),
    Unstateable(
        "The definition's code is the path's: a schema cannot compare the body with the path; "
        "and the codes of one import are distinct, which uniqueItems cannot say of one member "
        "of objects.",
        status=422,
        operations=WINDOW_DEFINITION_WRITES,
        fields=frozenset({"code"}),
        patterns=(r"[0-9]+\.code",),
        message="code",
    ),
]


def test_an_unstateable_rule_explains_only_its_own_refusals() -> None:
    # The rules must be able to refuse to explain, or a passing run proves nothing.
    rule = Unstateable(
        "why",
        status=422,
        operations=frozenset({"POST /x"}),
        pointers=("/write/content",),
        message="is missing",
    )

    def problem(*fields: str) -> bytes:
        errors = [{"field": f, "message": f"{f}: is missing"} for f in fields]
        return json.dumps({"errors": errors}).encode()

    json_problem = "application/problem+json"
    assert rule.explains(
        "POST /x", 422, json_problem, problem("/write/content", "/write/content/a")
    )
    assert not rule.explains("POST /x", 422, json_problem, problem("/write/contents"))
    assert not rule.explains("POST /x", 422, json_problem, problem("/write/content/a", "/query"))
    assert not rule.explains("POST /y", 422, json_problem, problem("/write/content/a"))
    assert not rule.explains("POST /x", 400, json_problem, problem("/write/content/a"))
    assert not rule.explains("POST /x", 422, "application/json", problem("/write/content/a"))
    # A body breaking two rules at once is explained by the two, not by either alone.
    other = Unstateable("why", status=422, fields=frozenset({"/query"}), message="is missing")
    both = problem("/write/content/a", "/query")
    assert explained("POST /x", 422, json_problem, both, (rule, other))
    assert not explained("POST /x", 422, json_problem, both, (other,))
    assert not explained("POST /x", 422, json_problem, problem("/else"), (rule, other))


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
_national_codes = st.randoms(use_true_random=False).map(generate_national_code)
schemathesis.openapi.format(identifiers.NATIONAL_CODE_FORMAT, _national_codes)
# An X-Road-Client is any client, or (given by the run) one of the registry's own agency, so
# that the Database API answers more than its 403.
_own_clients = [c for c in [os.environ.get(OWN_CLIENT)] if c]
schemathesis.openapi.format(
    identifiers.CLIENT_ID_FORMAT,
    st.one_of(*map(st.just, _own_clients), _member_ids, _subsystem_ids),
)
schemathesis.openapi.format(identifiers.PERSON_ID_FORMAT, _national_codes.map("IR".__add__))


@schemathesis.serializer("application/jose", "application/timestamp-query", "application/vc+jwt")
def _opaque(ctx: Any, value: Any) -> bytes:
    """JWS and DER bodies are opaque strings or bytes: send them as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


def _body_breaks_its_schema(case: Any) -> bool:
    """Whether the body sent is not one the document allows. schemathesis' error feedback
    reads a problem's ``field`` as a dotted path, so a JSON pointer there (the Data API's
    ``/write/content/x``) makes it add a property named by the whole pointer to a closed
    object, and still call the case positive."""
    if case.body is NOT_SET or not media_types.is_json(case.media_type or ""):
        return False  # JWS and DER bodies are opaque to JSON Schema
    alternative = case.operation.get_body_for_media_type(case.media_type)
    if alternative is None:
        return False
    validator = make_validator(
        alternative.optimized_schema, case.operation.schema.adapter.jsonschema_validator_cls
    )
    return not validator.is_valid(case.body)


@schemathesis.check
def positive_data_acceptance_of_stated_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, except for the refusals ``UNSTATEABLE`` explains
    and for bodies the document does not allow."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _body_breaks_its_schema(case):
            return None
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        label = case.operation.label
        if explained(label, response.status_code, content_type, response.content, UNSTATEABLE):
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

READER = "IR0499370899"  # the person a Data API call is made for (synthetic, valid check digit)
PERSON = {
    "national_code": "0499370899",
    "given_name": "زهرا",
    "family_name": "احمدی",
    "birth_date": "1990-03-21",
}


@dataclass
class ContractFederation:
    central_url: str
    central_admin_key: str
    gateway_admin_url: str
    gateway_admin_token: str
    registry_url: str
    registry_admin_token: str
    registry_gateway_secret: str
    client: str
    """A subsystem of the federation's member: the client a gateway names to its registry."""
    data_api_document: Path
    """The Data API document the test registry published to its gateway."""
    hub_url: str
    hub_admin_token: str
    hub_gateway_secret: str
    issuer_url: str
    issuer_gateway_secret: str
    idp_url: str
    idp_client_basic: str
    """``Basic`` credentials of a client registered at the identity provider."""
    window_url: str
    window_agency_key: str
    """The key of an agency registered at the window: it writes that agency's definitions."""


Headers = Callable[[ContractFederation], list[str]]


@dataclass(frozen=True)
class ApiUnderTest:
    """One HTTP API: where its OpenAPI document is, where it answers when the document does
    not say (``base_url``), and the headers a caller with credentials sends."""

    name: str
    openapi: Callable[[ContractFederation], str]
    headers: Headers
    base_url: Callable[[ContractFederation], str | None] = lambda f: None
    anonymous: bool = True
    """Whether a run without the headers tests anything the run with them does not."""


def _bearer(token: Callable[[ContractFederation], str]) -> Headers:
    return lambda f: [f"Authorization: Bearer {token(f)}"]


APIS = [
    ApiUnderTest(
        "central",
        lambda f: f"{f.central_url}/openapi.json",
        _bearer(lambda f: f.central_admin_key),
    ),
    ApiUnderTest(
        "gateway-management",
        lambda f: f"{f.gateway_admin_url}/openapi.json",
        _bearer(lambda f: f.gateway_admin_token),
    ),
    # The management API takes the admin token; the Data, usage and Database APIs take the
    # gateway's secret (and the exchange headers, which the document states as parameters).
    ApiUnderTest(
        "registry-service",
        lambda f: f"{f.registry_url}/openapi.json",
        lambda f: [
            f"Authorization: Bearer {f.registry_admin_token}",
            f"X-Zistboom-Gateway-Secret: {f.registry_gateway_secret}",
        ],
    ),
    # The document a registry publishes to its gateway, called as the gateway calls the
    # registry. Its calls reach the registry only through the gateway, so the document states
    # neither the secret nor the exchange headers, and without them every call is the
    # registry service's 403 (its own document states it, and its anonymous run checks it).
    ApiUnderTest(
        "registry-data-api",
        lambda f: str(f.data_api_document),
        lambda f: [
            f"X-Zistboom-Gateway-Secret: {f.registry_gateway_secret}",
            f"X-Road-Client: {f.client}",
            f"X-Road-UserId: {READER}",
            "X-Road-Purpose: contract-test",
        ],
        base_url=lambda f: f"{f.registry_url}/data/{TEST_REGISTRY}",
        anonymous=False,
    ),
    # The hub: its public API (types, status lists, verification, pull links) takes nothing,
    # its management API the admin token, its exchange services the gateway's secret (and the
    # exchange headers, which its document states as parameters), as the registry service's.
    # No run without them: the public API takes none, so that run would repeat its slowest
    # part (verification) for nothing, and ignored_auth probes without credentials each
    # protected operation that answers 2xx (the secret and the token are declared schemes).
    ApiUnderTest(
        "documents-hub",
        lambda f: f"{f.hub_url}/openapi.json",
        lambda f: [
            f"Authorization: Bearer {f.hub_admin_token}",
            f"X-Zistboom-Gateway-Secret: {f.hub_gateway_secret}",
        ],
        anonymous=False,
    ),
    # The issuer answers only its gateway: with the secret, as the gateway calls it.
    ApiUnderTest(
        "documents-issuer",
        lambda f: f"{f.issuer_url}/openapi.json",
        lambda f: [f"X-Zistboom-Gateway-Secret: {f.issuer_gateway_secret}"],
    ),
    # The development identity provider: its token endpoint takes a registered client's Basic
    # credentials (userinfo a bearer token, which only a sign-in gives: its 401 is stated).
    ApiUnderTest(
        "identity-provider",
        lambda f: f"{f.idp_url}/openapi.json",
        lambda f: [f"Authorization: Basic {f.idp_client_basic}"],
    ),
    # The window's catalogue API, with an agency's key (it writes that agency's definitions;
    # the operator's routes answer it 403, as they must).
    ApiUnderTest(
        "window",
        lambda f: f"{f.window_url}/openapi.json",
        _bearer(lambda f: f.window_agency_key),
    ),
]


@pytest.fixture(scope="module")
def contract_federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractFederation]:
    import base64

    import httpx

    from federation import add_registry, start_federation
    from idp.provider import WINDOW, Provider, start_provider

    root = tmp_path_factory.mktemp("contracts")
    federation = start_federation(root, None)
    registry = None
    documents: list[ServiceProcess] = []
    idp: Provider | None = None
    try:
        idp = start_provider(root, None)
        basic = base64.b64encode(f"{WINDOW}:{idp.secrets[WINDOW]}".encode()).decode()
        member = federation.add_member("Contracts", ["app", "registry", "documents", "issuer"])
        gateway = federation.add_gateway("gw", member)
        gateway.start()
        registry = add_registry(federation, "registry", member, gateway)
        registry.start()
        registry.cli(
            "create", TEST_REGISTRY,
            "--schema", str(TESTS / "registries" / "data" / "people-1.0.yaml"),
            "--name-fa", "افراد", "--name-en", "People",
        )  # fmt: skip
        registry.cli("publish", TEST_REGISTRY, "--no-catalogue")
        admin_token = (registry.data_dir / "admin-token").read_text().strip()
        secret = (registry.data_dir / "gateway-secret").read_text().strip()
        client = f"{member}/app"
        # A record, so that no run's Database API call can delete the registry (409).
        created = httpx.post(
            f"{registry.url}/data/{TEST_REGISTRY}/{TEST_VERSION}/create",
            json={"write": {"content": PERSON}},
            headers={
                "X-Zistboom-Gateway-Secret": secret,
                "X-Road-Client": client,
                "X-Road-UserId": READER,
                "X-Road-Purpose": "contract-test",
            },
            timeout=30,
        )
        assert created.status_code == 200, created.text
        published = httpx.get(
            f"{registry.url}/api/v1/registries/{TEST_REGISTRY}/openapi",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=30,
        )
        assert published.status_code == 200, published.text
        document = root / f"{TEST_REGISTRY}-data-api.json"
        document.write_text(published.text)
        services = start_documents(federation, member, gateway, root, window=client)
        documents += [services.hub, services.issuer]
        window, window_url, window_key = start_window(federation, root)
        documents.append(window)
        yield ContractFederation(
            central_url=federation.central.url,
            central_admin_key=federation.central.admin_key,
            gateway_admin_url=f"http://127.0.0.1:{gateway.admin_port}",
            gateway_admin_token=(gateway.data_dir / "admin-token").read_text().strip(),
            registry_url=registry.url,
            registry_admin_token=admin_token,
            registry_gateway_secret=secret,
            client=client,
            data_api_document=document,
            hub_url=services.hub_url,
            hub_admin_token=services.secret(services.hub_dir, "admin-token"),
            hub_gateway_secret=services.secret(services.hub_dir),
            issuer_url=services.issuer_url,
            issuer_gateway_secret=services.secret(services.issuer_dir),
            idp_url=idp.url,
            idp_client_basic=basic,
            window_url=window_url,
            window_agency_key=window_key,
        )
    finally:
        if idp is not None:
            idp.stop()
        for service in reversed(documents):
            service.stop()
        if registry is not None:
            registry.stop()
        federation.stop()


@dataclass
class DocumentServices:
    hub: ServiceProcess
    hub_url: str
    hub_dir: Path
    issuer: ServiceProcess
    issuer_url: str
    issuer_dir: Path

    def secret(self, data_dir: Path, name: str = "gateway-secret") -> str:
        return (data_dir / name).read_text().strip()


def start_documents(
    federation: Federation, member: str, gateway: GatewayProcess, root: Path, *, window: str
) -> DocumentServices:
    """The documents hub and an issuer of ``member``, both behind ``gateway`` (``init``
    registers their services on it), each with its doc key enrolled at central; the window is
    ``window``, so that acting for a person is answered, not only refused."""
    import httpx

    from central_process import ZISTBOOM
    from federation import ServiceProcess
    from support import free_port

    anchor = root / "anchor.json"
    anchor.write_text(httpx.get(f"{federation.central.url}/anchor", timeout=10).text)
    common = [
        "--central-url", federation.central.url, "--anchor", str(anchor),
        "--gateway-admin-url", f"http://127.0.0.1:{gateway.admin_port}",
        "--gateway-admin-token-file", str(gateway.data_dir / "admin-token"),
    ]  # fmt: skip
    hub_port, issuer_port = free_port(), free_port()
    hub_dir, issuer_dir = root / "hub", root / "issuer"
    hub_init = [
        ZISTBOOM, "documents", "hub", "init", "--data-dir", str(hub_dir), "--member", member,
        "--window", window, "--token", _doc_token(federation, member), "--port", str(hub_port),
        *common,
    ]  # fmt: skip
    _run(hub_init, federation.env())
    hub = ServiceProcess(
        "hub",
        [ZISTBOOM, "documents", "hub", "serve", "--data-dir", str(hub_dir)],
        f"http://127.0.0.1:{hub_port}/health",
        federation.env(),
    )
    hub.start()
    issuer_init = [
        ZISTBOOM, "documents", "issuer", "init", "--data-dir", str(issuer_dir),
        "--member", member, "--token", _doc_token(federation, member),
        "--gateway-url", gateway.url, "--hub-service", f"{member}/documents/documents",
        "--hub-url", f"http://127.0.0.1:{hub_port}",
        "--registry-subsystem", f"{member}/registry", "--port", str(issuer_port), *common,
    ]  # fmt: skip
    issuer = ServiceProcess(
        "issuer",
        [ZISTBOOM, "documents", "issuer", "serve", "--data-dir", str(issuer_dir)],
        f"http://127.0.0.1:{issuer_port}/health",
        federation.env(),
    )
    try:
        _run(issuer_init, federation.env())
        issuer.start()
    except BaseException:
        hub.stop()
        raise
    return DocumentServices(
        hub, f"http://127.0.0.1:{hub_port}", hub_dir, issuer, f"http://127.0.0.1:{issuer_port}",
        issuer_dir,
    )  # fmt: skip


def start_window(federation: Federation, root: Path) -> tuple[ServiceProcess, str, str]:
    """The single window (its catalogue API), on central's catalogue, with one registered
    agency and that agency's key."""
    import httpx

    from central_process import ZISTBOOM
    from federation import ServiceProcess
    from support import free_port
    from zistboom.window.settings import WindowSettings

    port, data_dir = free_port(), root / "window"
    WindowSettings.load(data_dir, port=port, central_url=federation.central.url).write()
    window = ServiceProcess(
        "window",
        [ZISTBOOM, "window", "serve", "--data-dir", str(data_dir)],
        f"http://127.0.0.1:{port}/health",
        federation.env(),
    )
    window.start()
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {(data_dir / 'admin-token').read_text().strip()}"}
    agency = f"IR-TEST/GOV/{generate_legal_entity_id(random.Random(7))}"
    registered = httpx.post(
        f"{url}/api/v1/agencies",
        json={"member_id": agency, "name_fa": "دستگاه", "name_en": "Agency"},
        headers=admin,
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    issued = httpx.post(f"{url}/api/v1/agencies/{agency}/keys", headers=admin, timeout=30)
    assert issued.status_code == 201, issued.text
    return window, url, str(issued.json()["key"])


def _doc_token(federation: Federation, member: str) -> str:
    with federation.admin() as client:
        answer = client.post("/api/v1/enrolment-tokens", json={"member_id": member, "kind": "doc"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}{result.stderr}"


RUNS = [
    (api, credentials)
    for api in APIS
    for credentials in ((True, False) if api.anonymous else (True,))
]


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
        SCHEMATHESIS, "run", api.openapi(contract_federation),
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "30",
        "--output-truncate", "false",
    ]  # fmt: skip
    base_url = api.base_url(contract_federation)
    if base_url is not None:
        command += ["--url", base_url]
    if credentials:
        for header in api.headers(contract_federation):
            command += ["--header", header]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": Path(__file__).stem,
        OWN_CLIENT: contract_federation.client,
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
