"""ZB-STD-007 (accreditation) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked: the trust-list payload is a valid
``TrustList`` (strict), its JWS a real signature over exactly that payload by the key the example
pointer names (and refused past its next update or with one byte changed), each recognition
statement a signature of that key over the version's terms, the field tables list exactly the
models' fields, and every trust-registry answer is what ``TrustIndex`` answers over the example
list at the example time. The request examples are taken by central's own query models
(``accreditation.trqp``), and the request tables list those models' fields; the answers' fields
are those of §11.3.

The checks are plain functions that raise AssertionError, so that the last tests can alter an
example and see each check fail.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from standard_examples import fenced_examples
from zistboom.accreditation.trqp import AuthorizationQuery, RecognitionQuery
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto.jws import jwk_to_public_key, public_key_to_jwk, sign_jws, verify_jws
from zistboom.core.crypto.keys import generate_private_key, public_key_fingerprint
from zistboom.core.globalconf import GlobalConf, TrustListPointer
from zistboom.core.trustlist import (
    JWS_TYPE,
    AccreditationEntry,
    AssessorEntry,
    RecognitionEntry,
    SchemeEntry,
    StatusChange,
    TrustList,
    TrustListRefused,
    token_digest,
    verify_trust_list,
)

STANDARDS = Path(__file__).parents[2] / "docs" / "standards"
STANDARD = STANDARDS / "ZB-STD-007-accreditation.md"
GLOBALCONF_STANDARD = STANDARDS / "ZB-STD-003-global-configuration.md"
INSTANCE = "IR-DEMO"
RECOGNITION_TYP = "zb-recognition+jws"
TRQP_TYP = "zb-trqp+jwt"

# (request block, answer block, query) for every query example of §11.6.
QUERIES = [
    ("trqp-authorization-request", "trqp-authorization-answer", "authorization"),
    ("trqp-authorization-past-request", "trqp-authorization-past-answer", "authorization"),
    (
        "trqp-authorization-recognised-request",
        "trqp-authorization-recognised-answer",
        "authorization",
    ),
    ("trqp-recognition-request", "trqp-recognition-answer", "recognition"),
]
KNOWN_EXAMPLES = {
    "trust-list-payload",
    "trust-list-jws",
    "trust-list-pointer",
    "trqp-authorization-answer-jwt",
    *(name for request, answer, _ in QUERIES for name in (request, answer)),
}

ANSWER_FIELDS = [
    "entity_id",
    "authority_id",
    "action",
    "resource",
    "authorized",
    "time_requested",
    "time_evaluated",
    "message",
    "records",
    "trust_list_sequence",
]


# -- reading the standard ---------------------------------------------------------------------


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def examples(text: str) -> dict[str, str]:
    return dict(fenced_examples(text))


def example(name: str, text: str | None = None) -> str:
    blocks = fenced_examples(standard_text() if text is None else text)
    bodies = [body for block_name, body in blocks if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0]


def token_of(name: str, text: str | None = None) -> str:
    return "".join(example(name, text).split())


def payload() -> TrustList:
    return TrustList.model_validate_json(example("trust-list-payload"), strict=True)


def pointer() -> TrustListPointer:
    return TrustListPointer.model_validate_json(example("trust-list-pointer"), strict=True)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    following = re.search(r"\n#{2,3} ", text[start + 1 :])
    return text[start : start + 1 + following.start()] if following else text[start:]


def documented_fields(text: str, heading: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", section(text, heading), re.MULTILINE))


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def b64json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)


# -- the checks -------------------------------------------------------------------------------


def check_examples_known_and_present(text: str) -> None:
    names = [name for name, _ in fenced_examples(text)]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES), "each known example exactly once"


def check_field_table(text: str, heading: str, model: type[BaseModel]) -> None:
    documented = documented_fields(text, heading)
    assert documented == set(model.model_fields), (
        f"{heading}: documented {sorted(documented)}, model {sorted(model.model_fields)}"
    )


def check_signed_list(token: str, named: TrustListPointer, at: datetime) -> TrustList:
    """The list as §9.1 accepts it: key, digest, instance, not stale, the sequence named."""
    trust_list = verify_trust_list(
        token,
        key_fingerprint=named.key_fingerprint,
        instance=INSTANCE,
        now=at,
        digest=named.digest,
    )
    assert trust_list.sequence == named.sequence, "§9.1 step 11: the sequence the pointer names"
    return trust_list


def check_statement(statement: str, entry: RecognitionEntry, key_fingerprint: str) -> None:
    """§6.3: signed by the trust-list key, typ zb-recognition+jws, over exactly the terms."""
    header = b64json(statement.split(".")[0])
    assert header["typ"] == RECOGNITION_TYP
    assert header["kid"] == key_fingerprint
    signer = jwk_to_public_key(header["jwk"])
    assert public_key_fingerprint(signer) == key_fingerprint
    _, signed = verify_jws(statement, signer)
    terms = {"instance": INSTANCE} | entry.model_dump(
        mode="python", exclude={"history", "statement"}
    )
    assert signed == canonical(terms), f"{entry.id} v{entry.version}: statement terms differ"


def check_request(request: Any, query: str) -> None:
    """The request as central's own query models take it (what the routes validate)."""
    model = {"authorization": AuthorizationQuery, "recognition": RecognitionQuery}[query]
    try:
        model.model_validate_json(json.dumps(request))
    except PydanticValidationError as err:
        raise AssertionError(f"{query} request refused: {err}") from None


def expected_answer(index: TrustIndex, request: dict[str, Any], evaluated: str) -> dict[str, Any]:
    """What central answers (§11.2-§11.4) over ``index`` to ``request``, evaluated then."""
    requested = request.get("context", {}).get("time", evaluated)
    at = moment(requested)
    ecosystem, kind = request["resource"].split(":")
    if request["action"] == "recognize":
        other = tuple(request["entity_id"].split(":"))
        schemes = [s.code for s in index.trust_list.schemes if (s.ecosystem, s.kind) == other]
        scheme = schemes[0] if schemes else "-".join(other)
        answer, verdict = index.recognize(ecosystem, scheme, kind, at), "recognized"
    elif request["action"] == "assess":
        answer, verdict = (
            index.may_assess(request["entity_id"], f"{ecosystem}-{kind}", at),
            "authorized",
        )
    else:
        requirement = Requirement(ecosystem, kind, "basic", request["action"])
        answer, verdict = index.authorize(request["entity_id"], requirement, at), "authorized"
    return {
        **{name: request[name] for name in ("entity_id", "authority_id", "action", "resource")},
        verdict: answer.holds,
        "time_requested": moment(requested).isoformat().replace("+00:00", "Z"),
        "time_evaluated": evaluated,
        "message": answer.message,
        "records": [json.loads(json.dumps(record)) for record in answer.records],
        "trust_list_sequence": index.trust_list.sequence,
    }


def check_answer(index: TrustIndex, request: dict[str, Any], answer: dict[str, Any]) -> None:
    fields = [
        "recognized" if name == "authorized" and request["action"] == "recognize" else name
        for name in ANSWER_FIELDS
    ]
    assert list(answer) == fields, f"answer fields {list(answer)}, §11.3 gives {fields}"
    expected = expected_answer(index, request, answer["time_evaluated"])
    for name in fields:
        assert answer[name] == expected[name], (
            f"{name}: the example says {answer[name]!r}, the check answers {expected[name]!r}"
        )


def check_signed_answer(token: str, answer: dict[str, Any], key_fingerprint: str) -> None:
    """§11.5: a JWS of the answer's canonical JSON by the trust-list key, typ zb-trqp+jwt."""
    header = b64json(token.split(".")[0])
    assert header["typ"] == TRQP_TYP
    assert header["kid"] == key_fingerprint
    signer = jwk_to_public_key(header["jwk"])
    assert public_key_fingerprint(signer) == key_fingerprint, "signed by the trust-list key"
    _, signed = verify_jws(token, signer)
    assert signed == canonical(answer), "the signed answer is exactly the example answer"


# -- the standard as written ------------------------------------------------------------------


def test_every_example_block_is_known_and_present() -> None:
    check_examples_known_and_present(standard_text())


def test_header_and_persian_abstract() -> None:
    text = standard_text()
    assert text.startswith("# ZB-STD-007 — Inter-chain service accreditation\n")
    assert (
        "| Title | Inter-chain service accreditation: procedure, trust list and trust-registry "
        "queries |" in text
    )
    assert "| Version | 1.1 |" in text
    assert "| Changes | 1.1: the ecosystem `national`" in text
    assert "| Date | 2026-12-01 |" in text
    assert "| Status | Normative |" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1. Purpose and scope")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 4000].replace(" ", ""))


def test_payload_example_is_a_valid_trust_list() -> None:
    trust_list = payload()
    assert trust_list.instance == INSTANCE
    # What §7.9 says the example holds.
    assert len(trust_list.schemes) >= 3
    statuses = {a.id: [c.status for c in a.history] for a in trust_list.accreditations}
    assert ["granted", "suspended", "reinstated"] in statuses.values()
    versions = {r.version for r in trust_list.recognitions if r.id == "rec-4"}
    assert versions == {1, 2}
    first = next(r for r in trust_list.recognitions if r.id == "rec-4" and r.version == 1)
    second = next(r for r in trust_list.recognitions if r.id == "rec-4" and r.version == 2)
    assert first.history[-1].status == "revoked"
    assert first.history[-1].at == second.valid_from == second.history[0].at  # §6.2
    delegated = [a for a in trust_list.assessors if a.delegated_from is not None]
    assert delegated
    parents = {a.id: a for a in trust_list.assessors}
    for assessor in delegated:
        assert parents[assessor.delegated_from].depth > assessor.depth  # §4.7 step 2
    scopes = {a.scope for a in trust_list.accreditations}
    assert scopes == {"member", "subsystem", "service"}


def test_pointer_example_names_the_example_list() -> None:
    named = pointer()
    token = token_of("trust-list-jws")
    assert named.digest == token_digest(token)
    assert named.sequence == payload().sequence
    assert named.url.endswith("/trust-list")
    # The global configuration example of ZB-STD-003 carries the same pointer (§8.4).
    globalconf = fenced_examples(GLOBALCONF_STANDARD.read_text(encoding="utf-8"))
    conf = GlobalConf.model_validate_json(dict(globalconf)["global-conf-payload"], strict=True)
    assert conf.trust_list == named


def test_jws_example_signs_exactly_the_example_payload() -> None:
    trust_list = payload()
    named = pointer()
    token = token_of("trust-list-jws")
    assert check_signed_list(token, named, trust_list.issued_at) == trust_list
    just_before = trust_list.next_update - timedelta(seconds=1)
    assert check_signed_list(token, named, just_before) == trust_list

    header_segment, payload_segment, _ = token.split(".")
    assert base64.urlsafe_b64decode(payload_segment + "=" * (-len(payload_segment) % 4)) == (
        trust_list.canonical_json()
    )
    header = b64json(header_segment)
    assert header["typ"] == JWS_TYPE == "zb-trust-list+jws"
    assert header["alg"] == "ES256"
    assert header["kid"] == named.key_fingerprint
    assert set(header) == {"alg", "typ", "jwk", "kid"}


@pytest.mark.parametrize("delay", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_jws_example_is_refused_from_its_next_update(delay: timedelta) -> None:
    trust_list = payload()
    with pytest.raises(TrustListRefused) as caught:
        check_signed_list(token_of("trust-list-jws"), pointer(), trust_list.next_update + delay)
    assert caught.value.reason == "stale"


def _one_byte_changed(token: str, position: int) -> str:
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


@pytest.mark.parametrize("where", ["header", "payload", "signature"])
def test_jws_example_is_refused_with_one_byte_changed(where: str) -> None:
    token = token_of("trust-list-jws")
    header, body, _ = token.split(".")
    position = {
        "header": len(header) // 2,
        "payload": len(header) + 1 + len(body) // 2,
        "signature": len(token) - 10,
    }[where]
    changed = _one_byte_changed(token, position)
    with pytest.raises(TrustListRefused) as caught:
        check_signed_list(changed, pointer(), payload().issued_at)
    assert caught.value.reason in {"malformed", "untrusted-key", "tampered"}
    # Even without the digest (a reader that has no pointer yet), the signature refuses it.
    with pytest.raises(TrustListRefused):
        verify_trust_list(
            changed,
            key_fingerprint=pointer().key_fingerprint,
            instance=INSTANCE,
            now=payload().issued_at,
        )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key_fingerprint": "0" * 64}, "untrusted-key"),
        ({"digest": "0" * 64}, "tampered"),
    ],
)
def test_jws_example_is_refused_under_another_pointer(change: dict[str, Any], reason: str) -> None:
    other = pointer().model_copy(update=change)
    with pytest.raises(TrustListRefused) as caught:
        check_signed_list(token_of("trust-list-jws"), other, payload().issued_at)
    assert caught.value.reason == reason


def test_jws_example_is_refused_for_another_instance_and_after_a_newer_list() -> None:
    token, named, at = token_of("trust-list-jws"), pointer(), payload().issued_at
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(token, key_fingerprint=named.key_fingerprint, instance="IR", now=at)
    assert caught.value.reason == "wrong-instance"
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(
            token,
            key_fingerprint=named.key_fingerprint,
            instance=INSTANCE,
            now=at,
            min_sequence=named.sequence + 1,
        )
    assert caught.value.reason == "older-sequence"
    with pytest.raises(AssertionError, match="step 11"):
        check_signed_list(token, named.model_copy(update={"sequence": 119}), at)


def test_a_kid_that_does_not_name_the_signing_key_is_malformed() -> None:
    """§9.1 step 4: a throwaway key signs the example payload, its kid naming another key."""
    key = generate_private_key()
    fingerprint = public_key_fingerprint(key.public_key())
    headers = {"typ": JWS_TYPE, "jwk": public_key_to_jwk(key.public_key())}
    at = payload().issued_at
    good = sign_jws(payload().canonical_json(), key, headers={**headers, "kid": fingerprint})
    verify_trust_list(good, key_fingerprint=fingerprint, instance=INSTANCE, now=at)
    bad = sign_jws(payload().canonical_json(), key, headers={**headers, "kid": "f" * 64})
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(bad, key_fingerprint=fingerprint, instance=INSTANCE, now=at)
    assert caught.value.reason == "malformed"


def test_recognition_statements_sign_their_terms() -> None:
    key_fingerprint = pointer().key_fingerprint
    for entry in payload().recognitions:
        check_statement(entry.statement, entry, key_fingerprint)


TABLES: list[tuple[str, type[BaseModel]]] = [
    ("### 7.1 Top-level fields", TrustList),
    ("### 7.2 Scheme entry", SchemeEntry),
    ("### 7.3 Accreditation entry", AccreditationEntry),
    ("### 7.4 Recognition entry", RecognitionEntry),
    ("### 7.5 Assessor entry", AssessorEntry),
    ("### 7.6 Status change", StatusChange),
    ("### 8.4 The global configuration pointer", TrustListPointer),
]


@pytest.mark.parametrize(("heading", "model"), TABLES)
def test_field_tables_match_the_models(heading: str, model: type[BaseModel]) -> None:
    check_field_table(standard_text(), heading, model)


def test_request_and_answer_tables_match_the_rules() -> None:
    text = standard_text()
    request_fields = set(AuthorizationQuery.model_fields)
    assert documented_fields(text, "### 11.2 The authorization request") == request_fields
    assert set(RecognitionQuery.model_fields) == request_fields
    assert documented_fields(text, "### 11.3 The authorization answer") == set(ANSWER_FIELDS)


@pytest.mark.parametrize(("request_name", "answer_name", "query"), QUERIES)
def test_query_examples_are_what_the_check_answers(
    request_name: str, answer_name: str, query: str
) -> None:
    request = json.loads(example(request_name))
    check_request(request, query)
    check_answer(TrustIndex(payload()), request, json.loads(example(answer_name)))


def test_query_examples_cover_yes_no_and_a_past_time() -> None:
    answers = [json.loads(example(answer)) for _, answer, _ in QUERIES]
    verdicts = [answer.get("authorized", answer.get("recognized")) for answer in answers]
    assert True in verdicts and False in verdicts
    past = [a for a in answers if moment(a["time_requested"]) < moment(a["time_evaluated"])]
    assert any(answer.get("authorized") is False for answer in past)


def test_signed_answer_example() -> None:
    answer = json.loads(example("trqp-authorization-answer"))
    check_signed_answer(
        token_of("trqp-authorization-answer-jwt"), answer, pointer().key_fingerprint
    )


# -- each check can fail ----------------------------------------------------------------------


def test_an_unknown_or_missing_example_block_is_caught() -> None:
    text = standard_text()
    with pytest.raises(AssertionError, match="unknown"):
        check_examples_known_and_present(text + "\n```zb-example trqp-other\n{}\n```\n")
    without = text.replace("```zb-example trust-list-pointer\n", "```json\n")
    with pytest.raises(AssertionError, match="exactly once"):
        check_examples_known_and_present(without)


def test_a_payload_that_breaks_a_rule_is_refused() -> None:
    data = json.loads(example("trust-list-payload"))
    data["accreditations"][0]["history"].reverse()  # out of time order (§7.7 rule 5)
    with pytest.raises(ValueError, match="time order"):
        TrustList.model_validate_json(json.dumps(data), strict=True)
    data = json.loads(example("trust-list-payload"))
    data["accreditations"][0]["surprise"] = True  # an unknown member
    with pytest.raises(ValueError, match="surprise"):
        TrustList.model_validate_json(json.dumps(data), strict=True)


@pytest.mark.parametrize(("heading", "model"), TABLES)
def test_a_table_row_missing_or_added_is_caught(heading: str, model: type[BaseModel]) -> None:
    text = standard_text()
    body = section(text, heading)
    first_row = re.search(r"^\| `[a-z_]+` \|.*\n", body, re.MULTILINE)
    assert first_row is not None
    with pytest.raises(AssertionError, match="documented"):
        check_field_table(text.replace(body, body.replace(first_row[0], "")), heading, model)
    extra = body.replace(first_row[0], first_row[0] + "| `invented` | string | no |\n")
    with pytest.raises(AssertionError, match="documented"):
        check_field_table(text.replace(body, extra), heading, model)


def test_a_statement_over_other_terms_is_caught() -> None:
    first, second = payload().recognitions[:2]
    with pytest.raises(AssertionError, match="statement terms differ"):
        check_statement(first.statement, second, pointer().key_fingerprint)
    with pytest.raises(AssertionError):
        check_statement(first.statement, first, "0" * 64)


@pytest.mark.parametrize(
    ("query", "change"),
    [
        ("authorization", lambda r: r.update(surprise=1)),
        ("authorization", lambda r: r.pop("resource")),
        ("authorization", lambda r: r.update(authority_id="IR/GOV")),
        ("authorization", lambda r: r.update(action="recognize")),
        ("authorization", lambda r: r.update(resource="tax/e-invoice-provider")),
        ("authorization", lambda r: r.update(entity_id="IR-DEMO/COM")),
        ("authorization", lambda r: r.update(context={"time": "2026-09-20T08:00:00"})),
        ("authorization", lambda r: r.update(context={"time": "2026-09-20", "level": "high"})),
        ("recognition", lambda r: r.update(action="provide")),
        ("recognition", lambda r: r.update(entity_id="IR-DEMO/COM/10862234560")),
    ],
)
def test_malformed_requests_are_refused(
    query: str, change: Callable[[dict[str, Any]], Any]
) -> None:
    name = (
        "trqp-authorization-past-request"
        if query == "authorization"
        else "trqp-recognition-request"
    )
    request = json.loads(example(name))
    check_request(copy.deepcopy(request), query)
    change(request)
    with pytest.raises(AssertionError, match="request refused"):
        check_request(request, query)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authorized", True),
        ("message", "IR-DEMO/COM/10101010103 holds accreditation acc-17"),
        ("time_requested", "2026-11-28T09:05:40Z"),
        ("records", []),
        ("trust_list_sequence", 117),
        ("entity_id", "IR-DEMO/COM/10101010103/other"),
    ],
)
def test_an_answer_that_is_not_the_checks_is_caught(field: str, value: Any) -> None:
    request = json.loads(example("trqp-authorization-past-request"))
    answer = json.loads(example("trqp-authorization-past-answer"))
    answer[field] = value
    with pytest.raises(AssertionError, match=field):
        check_answer(TrustIndex(payload()), request, answer)


def test_an_answer_with_other_fields_is_caught() -> None:
    request = json.loads(example("trqp-recognition-request"))
    answer = json.loads(example("trqp-recognition-answer"))
    answer["authorized"] = answer.pop("recognized")
    with pytest.raises(AssertionError, match="answer fields"):
        check_answer(TrustIndex(payload()), request, answer)


def test_a_signed_answer_of_another_answer_is_caught() -> None:
    other = json.loads(example("trqp-authorization-past-answer"))
    with pytest.raises(AssertionError, match="exactly the example answer"):
        check_signed_answer(
            token_of("trqp-authorization-answer-jwt"), other, pointer().key_fingerprint
        )
