"""ZB-STD-009 (asynchronous messaging) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked against the code that makes or
reads it: the receipt verifies with ``messaging.verify_receipt`` against the example CA, its
payload is the printed one and its digests are those of the example delivery; the delivery's
signature verifies and covers exactly the components a sending gateway covers for the headers it
carries; the push is what ``pusher.push_headers`` sends for that delivery; the submission answer
and the status resource validate against the schemas of ``openapi_document()`` and the status
resource is what ``outbox_json`` and ``inbox_json`` build from its own facts; the routes are the
OpenAPI document's paths and ``MessagesApi``'s routes; the kinds, the ladder and the receipt's
fields are ``KINDS``, ``RANK``/``FINAL`` and ``_RECEIPT_FIELDS``. The tables of permanent
refusals, settings, metrics and commands are the code's too.

The checks are plain functions that raise AssertionError, so that the last tests can alter an
example and see each check fail.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
import typer
from cryptography import x509
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from standard_examples import fenced_examples
from zistboom.core import exchange as xr
from zistboom.core import messaging as zm
from zistboom.core.crypto import httpsig, jws
from zistboom.core.crypto.keys import PublicKey
from zistboom.core.crypto.x509 import (
    certificate_fingerprint,
    certificate_public_key,
    load_certificate,
    verify_certificate,
)
from zistboom.core.errors import CryptoError
from zistboom.core.identifiers import ServiceId, SubsystemId
from zistboom.gateway.message import REQUEST_BASE_COMPONENTS, REQUEST_OPTIONAL_HEADERS
from zistboom.gateway.messaging import cli as messages_cli
from zistboom.gateway.messaging.api import MessagesApi
from zistboom.gateway.messaging.delivery import PERMANENT
from zistboom.gateway.messaging.models import InboxMessage, OutboxMessage
from zistboom.gateway.messaging.openapi import openapi_document
from zistboom.gateway.messaging.pusher import push_headers
from zistboom.gateway.messaging.receiver import CARRIED, notice_messages
from zistboom.gateway.messaging.service import _MessagingCollector, inbox_json, outbox_json
from zistboom.gateway.messaging.store import MAX_NOTICE, MAX_PAGE, next_attempt, notice_body
from zistboom.gateway.settings import GatewaySettings

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-009-asynchronous-messaging.md"
KNOWN_EXAMPLES = {
    "routes",
    "submission-request",
    "submission-response",
    "push",
    "status-resource",
    "delivery",
    "kinds",
    "status-ladder",
    "receipt",
    "receipt-payload",
    "ca-certificate",
    "status-notice",
}
OPENAPI_JSON = ("GET", "/messages/v1/openapi.json")
SECRET = "x-zistboom-gateway-secret"


# -- reading the standard ---------------------------------------------------------------------


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example(name: str, text: str | None = None) -> str:
    blocks = fenced_examples(standard_text() if text is None else text)
    bodies = [body for block_name, body in blocks if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0]


def joined(name: str) -> str:
    """A compact JWS: its line breaks are for display only."""
    return "".join(example(name).split())


def section(title: str, text: str | None = None) -> str:
    """The text of the section whose heading starts with ``title`` (up to the next heading of
    the same or a higher level)."""
    text = standard_text() if text is None else text
    match = re.search(rf"^(#+) {re.escape(title)}.*$", text, re.MULTILINE)
    assert match, f"no section {title}"
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def cells(line: str) -> list[str]:
    """The cells of a table row, split at the pipes that are not escaped."""
    return re.split(r"(?<!\\)\|", line)


def table_column(text: str, after: str) -> list[str]:
    """The back-quoted names in the first column of the first table after ``after``."""
    start = text.index(after)
    names: list[str] = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if names:
                break
            continue
        names.extend(re.findall(r"`([^`]+)`", cells(line)[1]))
    return names


@dataclass(frozen=True)
class HttpMessage:
    start: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) == 1, f"{len(values)} {name} headers"
        return values[0]

    def has(self, name: str) -> bool:
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def lowered(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers}


def parse_http(text: str) -> HttpMessage:
    """An HTTP message as the examples print it: start line, header lines, an empty line, and
    the body on the following line(s) without the block's final line feed."""
    head, _, body = text.partition("\n\n")
    start, *lines = head.split("\n")
    headers = []
    for line in lines:
        name, _, value = line.partition(": ")
        assert name and value, f"not a header line: {line!r}"
        headers.append((name, value))
    return HttpMessage(start, headers, body.removesuffix("\n").encode())


def example_ca() -> x509.Certificate:
    return load_certificate(example("ca-certificate"))


def delivery_service(delivery: HttpMessage) -> str:
    method, target, _version = delivery.start.split(" ")
    assert method == "POST", "a delivery is a POST"
    assert target.startswith(zm.PREFIX), f"a delivery's target is under {zm.PREFIX}"
    return str(ServiceId.parse_path(target[len(zm.PREFIX) :], field="service"))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- the checks -------------------------------------------------------------------------------


def check_examples_known_and_present(text: str) -> None:
    names = [name for name, _ in fenced_examples(text)]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES), "each known example exactly once"


def check_routes(block: str) -> None:
    """The routes are the OpenAPI document's operations and those ``MessagesApi`` serves."""
    listed = [tuple(line.split()) for line in block.splitlines() if line.strip()]
    assert all(len(route) == 2 for route in listed), "each line is METHOD PATH"
    assert len(listed) == len(set(listed)), "a route is listed twice"
    document = openapi_document()
    described = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    } | {OPENAPI_JSON}
    assert set(listed) == described, (
        f"not in the OpenAPI document: {sorted(set(listed) - described)}; "
        f"not listed: {sorted(described - set(listed))}"
    )
    api = MessagesApi(messaging=None, client_side=None)  # type: ignore[arg-type]
    served = {
        (route.method, route.path.replace("{member_class}", "{memberClass}"))
        for route in api.routes()
        if "{tail" not in route.path
    }
    assert set(listed) == served, (
        f"not served: {sorted(set(listed) - served)}; not listed: {sorted(served - set(listed))}"
    )


def check_kinds(block: str, text: str) -> None:
    assert block.split() == list(zm.KINDS), f"kinds {block.split()}, the code's {zm.KINDS}"
    table = table_column(section("5.1 Kinds", text), "| Kind |")
    assert table == list(zm.KINDS), f"the table of §5.1 lists {table}"


def check_ladder(block: str) -> None:
    rows = [line.split() for line in block.splitlines() if line.strip()]
    ladder = [(row[0], int(row[1])) for row in rows]
    assert ladder == list(zm.RANK.items()), f"ladder {ladder}, the code's {list(zm.RANK.items())}"
    final = {row[0] for row in rows if row[2:] == ["final"]}
    assert all(row[2:] in ([], ["final"]) for row in rows), "a status is marked final or nothing"
    assert final == zm.FINAL, f"final {sorted(final)}, the code's {sorted(zm.FINAL)}"


def check_receipt_fields(text: str) -> None:
    table = table_column(section("6.2 Payload", text), "| Member |")
    assert set(table) == zm._RECEIPT_FIELDS, f"the payload table lists {table}"
    made = zm.Receipt("m", "message", "s", "v", "c", "d", datetime.now(UTC), "g", "r").payload()
    assert table == list(made), "the table's order is the payload's"


def check_receipt(token: str, payload_text: str, ca: x509.Certificate) -> zm.Receipt:
    """A receipt that verifies against the example CA, signed by the member of the service it
    names, whose payload is exactly the printed one."""
    try:
        receipt = zm.verify_receipt(token, ca_certificate=ca)
    except CryptoError as error:
        raise AssertionError(f"the receipt does not verify: {error.detail}") from error
    service = ServiceId.parse(receipt.service)
    assert receipt.receiver == str(service.member), "not signed by the service's member"
    header = jws.unverified_header(token)
    assert list(header) == ["alg", "typ", "x5c"], f"header members {list(header)}"
    assert header["typ"] == zm.RECEIPT_TYPE and len(header["x5c"]) == 1
    key = certificate_public_key(zm.receipt_certificate(token))
    signed = orjson.loads(jws.verify_jws(token, key)[1])
    printed = json.loads(payload_text)
    assert list(printed.items()) == list(signed.items()), "the payload is not the printed one"
    assert receipt.payload() == signed, "the payload is not what Receipt.payload() makes"
    return receipt


def signer_key(signer: x509.Certificate) -> Callable[[httpsig.SignatureParams], PublicKey]:
    """The key of ``signer`` for a signature whose ``keyid`` is its fingerprint."""

    def resolve(params: httpsig.SignatureParams) -> PublicKey:
        if params.key_id != certificate_fingerprint(signer):
            raise CryptoError("keyid is not the signer certificate's fingerprint")
        return certificate_public_key(signer)

    return resolve


def delivery_components(headers: dict[str, str]) -> list[str]:
    """What a sending gateway covers for these headers (``Delivery.attempt``)."""
    return (
        list(REQUEST_BASE_COMPONENTS)
        + [f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in headers]
        + [f'"{name}"' for name in zm.SIGNED_HEADERS if name in headers]
    )


def check_delivery(text: str, token: str, ca: x509.Certificate, standard: str) -> None:
    """The delivery is signed by the sender member over exactly the components a gateway
    covers, and the receipt names its id, sender, service, kind and both digests."""
    delivery = parse_http(text)
    service = delivery_service(delivery)
    host = delivery.header("host")
    headers = {k: v for k, v in delivery.lowered().items() if k != "host"}
    table = table_column(section("4.2 Headers", standard), "| Header |")
    for name in headers:
        assert name in table, f"{name} is not in the table of §4.2"
    for name in zm.SIGNED_HEADERS:
        assert name in table, f"the table of §4.2 does not list {name}"
    signer = load_certificate(base64.b64decode(headers["zb-signer-certificate"], validate=True))
    client = SubsystemId.parse(headers["x-road-client"])
    created_match = re.search(r";created=(\d+)", headers["signature-input"])
    assert created_match, "the signature has a created parameter"
    created = int(created_match[1])
    verify_certificate(
        signer,
        ca,
        at=datetime.fromtimestamp(created, UTC),
        kind="sign",
        identity=str(client.member),
    )
    expected = delivery_components(headers)
    try:
        httpsig.verify_content_digest(headers["content-digest"], delivery.body)
        verified = httpsig.verify_request(
            httpsig.RequestParts("POST", f"https://{host}{zm.PREFIX}{service}", headers),
            resolve_key=signer_key(signer),
            required=expected,
            now=created,
        )
    except CryptoError as error:
        raise AssertionError(f"the delivery does not verify: {error.detail}") from error
    assert list(verified.params.components) == expected, (
        f"covers {list(verified.params.components)}, a gateway covers {expected}"
    )
    assert verified.params.nonce == headers["x-road-id"], "the nonce is the message id"
    assert headers["zb-message-kind"] in zm.KINDS
    receipt = zm.verify_receipt(token, ca_certificate=ca)
    assert receipt.message_id == headers["x-road-id"], "the receipt names another message"
    assert receipt.sender == headers["x-road-client"], "the receipt names another sender"
    assert receipt.service == service, "the receipt names another service"
    assert receipt.kind == headers["zb-message-kind"], "the receipt names another kind"
    assert receipt.content_digest == headers["content-digest"], "another body digest"
    digest = zm.receipt_digest(verified.signature_base, delivery.body)
    assert receipt.delivery_digest == digest, "the receipt names the digest of another delivery"
    assert receipt.receiver == str(ServiceId.parse(service).member)


def openapi_schema(method: str, path: str, status: str) -> Draft202012Validator:
    document = openapi_document()
    answer = document["paths"][path][method]["responses"][status]
    schema = answer["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": document["components"]})


def check_against_openapi(value: Any, method: str, path: str, status: str) -> None:
    errors = sorted(
        openapi_schema(method, path, status).iter_errors(value), key=lambda e: list(e.path)
    )
    assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"


SUBMIT_PATH = "/messages/v1/{instance}/{memberClass}/{member}/{subsystem}/{service}"


def check_submission(request_text: str, response_text: str, delivery_text: str) -> None:
    """The submission is the message the delivery carries; its answer is the submit route's."""
    request = parse_http(request_text)
    delivery = parse_http(delivery_text)
    sent = delivery.lowered()
    method, target, _ = request.start.split(" ")
    assert method == "POST" and target.startswith("/messages/v1/"), "a submission is a POST"
    service = str(ServiceId.parse_path(target[len("/messages/v1/") :], field="service"))
    assert service == delivery_service(delivery), "submitted to another service"
    assert request.header("x-road-client") == sent["x-road-client"], "another client"
    assert request.body == delivery.body, "the delivery carries another body"
    assert request.header("content-type") == sent["content-type"]
    for name in CARRIED:
        if request.has(name):
            assert sent.get(name) == request.header(name), f"{name} not carried"
    response = parse_http(response_text)
    assert response.start == "HTTP/1.1 202 Accepted", "a submission is answered 202"
    answer = orjson.loads(response.body)
    check_against_openapi(answer, "post", SUBMIT_PATH, "202")
    assert set(answer) == {"id", "status", "duplicate"}, f"members {sorted(answer)}"
    assert answer["status"] == "accepted" and answer["duplicate"] is False
    assert answer["id"] == sent["x-road-id"], "the delivery carries another message id"
    assert response.header("location") == f"/messages/v1/outbox/{answer['id']}"
    assert response.header("x-road-id") == answer["id"]
    assert response.header("content-type") == "application/json"


def _outbox_row(view: dict[str, Any]) -> OutboxMessage:
    times = ("created_at", "expires_at", "next_attempt_at", "received_at", "delivered_at")
    fields = {
        name: (moment(value) if name in (*times, "answered_at") and value else value)
        for name, value in view.items()
        if name not in ("id", "cursor", "transitions", "answer", "deliveries")
    }
    return OutboxMessage(message_id=view["id"], id=view["cursor"], **fields)


def _inbox_row(view: dict[str, Any]) -> InboxMessage:
    fields = {
        name: (moment(value) if name.endswith("_at") and value else value)
        for name, value in view.items()
        if name not in ("id", "cursor", "body_base64")
    }
    body = base64.b64decode(view["body_base64"], validate=True)
    return InboxMessage(message_id=view["id"], id=view["cursor"], body=body, **fields)


def check_status_resource(
    view: dict[str, Any], delivery_text: str, token: str, request_text: str
) -> None:
    """The status resource validates, is what ``outbox_json``/``inbox_json`` make of its facts,
    and tells the example's story: the delivery, its receipt, the ladder, the answer."""
    check_against_openapi(view, "get", "/messages/v1/outbox/{id}", "200")
    plain = {k: v for k, v in view.items() if k not in ("transitions", "answer")}
    assert outbox_json(_outbox_row(view)) == plain, "not what outbox_json makes of its facts"
    assert list(outbox_json(_outbox_row(view))) == list(plain), "members out of order"
    answer = view["answer"]
    assert inbox_json(_inbox_row(answer)) == answer, "the answer is not what inbox_json makes"
    assert list(inbox_json(_inbox_row(answer))) == list(answer), "answer members out of order"
    delivery = parse_http(delivery_text)
    sent = delivery.lowered()
    receipt = zm.verify_receipt(token, ca_certificate=None)
    assert view["id"] == sent["x-road-id"] == receipt.message_id, "another message"
    assert view["client"] == sent["x-road-client"], "another sender"
    assert view["service"] == delivery_service(delivery), "another service"
    assert view["kind"] == sent["zb-message-kind"] and view["content_type"] == sent["content-type"]
    assert str(view["cursor"]) == sent["zb-message-sequence"], "the sequence is the cursor"
    expires = moment(view["expires_at"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert expires == sent["zb-message-expires"], "zb-message-expires is the lifetime's end"
    assert view["receipt"] == token, "the status holds another receipt"
    assert moment(view["received_at"]) == receipt.received_at, "received_at is the receipt's"
    assert view["idempotency_key"] == parse_http(request_text).header("idempotency-key")
    transitions = view["transitions"]
    statuses = [t["status"] for t in transitions]
    assert statuses == ["accepted", "sent", "received", "delivered", "processed"], statuses
    ranks = [zm.RANK[s] for s in statuses]
    assert ranks == sorted(ranks), "the ladder only climbs"
    times = [moment(t["at"]) for t in transitions]
    assert times == sorted(times), "transitions in time order"
    assert transitions[0]["at"] == view["created_at"]
    assert transitions[2]["detail"] == f"receipt from {receipt.gateway}"
    assert transitions[-1]["detail"] == f"answer {view['answer_id']}"
    assert view["status"] == statuses[-1] == answer["answer_status"]
    assert answer["id"] == view["answer_id"], "the answer is another message"
    assert answer["in_reply_to"] == view["id"], "the answer replies to another message"
    assert answer["kind"] == "answer"
    assert answer["service"] == f"{view['client']}/{zm.REPLIES_SERVICE}"
    assert str(ServiceId.parse(view["service"]).subsystem) == answer["sender"]


def check_push(push_text: str, delivery_text: str) -> None:
    """The push is what ``push_headers`` sends for the stored delivery, with its secret."""
    push = parse_http(push_text)
    delivery = parse_http(delivery_text)
    sent = delivery.lowered()
    assert push.start.startswith("POST "), "a push is a POST"
    assert push.has(SECRET), "the push carries the secret"
    row = InboxMessage(
        message_id=sent["x-road-id"],
        sender=sent["x-road-client"],
        service=delivery_service(delivery),
        kind=sent["zb-message-kind"],
        in_reply_to=sent.get(zm.IN_REPLY_TO),
        answer_status=sent.get(zm.ANSWER_STATUS),
        topic=sent.get(zm.TOPIC),
        content_type=sent.get("content-type"),
        headers={name: sent[name] for name in CARRIED if name in sent},
    )
    made = [(k.lower(), v) for k, v in push_headers(row, push.header(SECRET)).items()]
    printed = [(k.lower(), v) for k, v in push.headers if k.lower() != "host"]
    assert printed == made, f"the push headers are {made}"
    assert push.body == delivery.body, "the push carries another body"


def check_permanent(text: str) -> None:
    listed = re.findall(r"^- `([A-Za-z.]+)`$", section("7 Retries", text), re.MULTILINE)
    assert sorted(listed) == sorted(PERMANENT), f"permanent refusals {listed}"


def check_backoff() -> None:
    """§7's formula is ``store.next_attempt``'s."""
    start = datetime(2026, 12, 2, tzinfo=UTC)
    for attempts in (0, 1, 5, 8, 9, 40):
        for jitter in (0.0, 0.25, 0.999):
            delay = min(300.0, 1.0 * 2 ** min(attempts, 30)) * (0.5 + 0.5 * jitter)
            got = next_attempt(attempts, 1.0, 300.0, jitter, start)
            assert got == start + timedelta(seconds=delay), (attempts, jitter)


def check_status_notice(block: str) -> None:
    """The notice is what a receiving gateway sends (``store.notice_body``, byte for byte) and
    what a sending gateway reads (``receiver.notice_messages``); the bound is the code's."""
    notice = orjson.loads(block)
    listed = [(entry["id"], datetime.fromisoformat(entry["at"])) for entry in notice["messages"]]
    assert notice_body(listed) == block.strip().encode(), "not the body a gateway sends"
    assert notice_messages(block.encode()) == tuple(i for i, _ in listed)
    assert "1 to 500 messages" in section("5.4 Status notices", standard_text())
    assert MAX_NOTICE == 500, "the standard says 500"


def check_settings(text: str) -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([0-9.]+) \|", section("13.1 Settings", text), re.M)
    assert rows, "no settings table"
    fields = GatewaySettings.model_fields
    assert {name for name, _ in rows} == {
        name for name in fields if name.startswith("message_") or name == "push_timeout"
    }, "the settings table lists other settings"
    for name, default in rows:
        assert float(fields[name].default) == float(default), f"{name} defaults to {default}?"


def check_metrics(text: str) -> None:
    listed = table_column(section("13.2 Metrics", text), "| Metric |")
    counts = SimpleNamespace(retries=0, failures=0, receipts=0, pushed=0, push_failures=0)
    messaging = SimpleNamespace(
        _depth={}, outbox=counts, inbox=counts, receiver=SimpleNamespace(duplicates=0)
    )
    exposed = [family.name for family in _MessagingCollector(messaging).collect()]  # type: ignore[arg-type]
    assert listed == exposed, f"metrics {listed}, the collector's {exposed}"


def check_commands(text: str) -> None:
    commands = section("13.3 Commands", text)
    named = re.findall(r"`zistboom gateway messages (\w+)", commands)
    registered = [command.name for command in messages_cli.app.registered_commands]
    assert named == registered, f"commands {named}, the CLI's {registered}"
    options = {
        option
        for param in typer.main.get_command(messages_cli.app).commands["list"].params  # type: ignore[attr-defined]
        for option in getattr(param, "opts", [])
        if option.startswith("--") and option != "--data-dir"
    }
    row = next(line for line in commands.splitlines() if "messages list" in line)
    assert set(re.findall(r"--[a-z-]+", cells(row)[1])) == options, f"list takes {options}"


# -- the standard holds -----------------------------------------------------------------------


def test_every_example_block_is_known_and_present() -> None:
    check_examples_known_and_present(standard_text())


def test_header_and_persian_abstract() -> None:
    text = standard_text()
    assert text.startswith("# ZB-STD-009: Asynchronous messaging profile\n")
    assert "| Status | Normative |" in text
    assert "| Version | 1.1 |" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1 Scope")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 4000].replace(" ", ""))
    assert "PRIVATE KEY-----" not in text


def test_the_routes_are_the_interfaces() -> None:
    check_routes(example("routes"))
    assert f"1 to {MAX_PAGE}" in section("3.8 Paging")


def test_the_kinds_are_the_codes() -> None:
    check_kinds(example("kinds"), standard_text())


def test_the_ladder_is_the_codes() -> None:
    check_ladder(example("status-ladder"))


def test_the_receipt_fields_are_the_codes() -> None:
    check_receipt_fields(standard_text())


def test_the_receipt_verifies_and_is_the_printed_payload() -> None:
    receipt = check_receipt(joined("receipt"), example("receipt-payload"), example_ca())
    assert receipt.receiver == "IR-DEMO/GOV/60711446972"


def test_the_delivery_is_signed_as_a_gateway_signs_and_the_receipt_binds_it() -> None:
    check_delivery(example("delivery"), joined("receipt"), example_ca(), standard_text())


def test_the_submission_is_the_delivered_message() -> None:
    check_submission(
        example("submission-request"), example("submission-response"), example("delivery")
    )


def test_the_status_resource_is_the_codes() -> None:
    check_status_resource(
        json.loads(example("status-resource")),
        example("delivery"),
        joined("receipt"),
        example("submission-request"),
    )


def test_the_status_notice_is_what_the_gateways_send_and_read() -> None:
    check_status_notice(example("status-notice"))


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text.replace('"delivered"', '"processed"'),
        lambda text: text.replace('"messages"', '"ids"'),
        lambda text: text.replace('"at":"2026-12-03T08:15:02.118000+00:00"', '"at":"yesterday"'),
        lambda text: text.replace(",", ", "),  # not the compact form a gateway sends
        lambda text: text.replace(
            '"messages":[',
            '"messages":[{"id":"' + "x" * 65 + '","at":"2026-12-03T08:15:02+00:00"},',
        ),
    ],
)
def test_a_status_notice_the_gateways_would_not_send_or_read_is_caught(
    change: Callable[[str], str],
) -> None:
    with pytest.raises((AssertionError, ValueError, KeyError, xr.ExchangeError)):
        check_status_notice(change(example("status-notice")))


def test_the_push_is_what_the_gateway_sends() -> None:
    check_push(example("push"), example("delivery"))


def test_the_permanent_refusals_backoff_settings_metrics_and_commands_are_the_codes() -> None:
    text = standard_text()
    check_permanent(text)
    check_backoff()
    check_settings(text)
    check_metrics(text)
    check_commands(text)
    reserved = set(re.findall(r"`(message\w+)`", section("5.3 Reserved", text)))
    assert reserved == zm.RESERVED_SERVICES


# -- each check can fail ----------------------------------------------------------------------


def test_an_unknown_or_missing_example_block_is_caught() -> None:
    text = standard_text()
    with pytest.raises(AssertionError, match="unknown"):
        check_examples_known_and_present(text + "\n```zb-example receipt-other\n{}\n```\n")
    without = text.replace("```zb-example kinds\n", "```text\n")
    with pytest.raises(AssertionError, match="exactly once"):
        check_examples_known_and_present(without)


@pytest.mark.parametrize(
    "change",
    [
        lambda lines: lines.pop(0),
        lambda lines: lines.append("GET    /messages/v1/outbox/{id}/receipt"),
        lambda lines: lines.append(lines[1]),
        lambda lines: lines.__setitem__(1, "POST   /messages/v1/outbox"),
    ],
)
def test_routes_other_than_the_interfaces_are_caught(change: Callable[[list[str]], Any]) -> None:
    lines = example("routes").splitlines()
    change(lines)
    with pytest.raises(AssertionError):
        check_routes("\n".join(lines))


def test_other_kinds_or_another_ladder_are_caught() -> None:
    kinds = example("kinds").split()
    with pytest.raises(AssertionError, match="kinds"):
        check_kinds("\n".join(reversed(kinds)), standard_text())
    with pytest.raises(AssertionError, match="kinds"):
        check_kinds("\n".join(kinds[:-1]), standard_text())
    ladder = example("status-ladder")
    with pytest.raises(AssertionError, match="ladder"):
        check_ladder(ladder.replace("delivered 3", "delivered 2"))
    with pytest.raises(AssertionError, match="final"):
        check_ladder(ladder.replace("failed 5 final", "failed 5"))


def test_a_receipt_table_row_missing_is_caught() -> None:
    text = standard_text()
    row = next(line for line in text.splitlines() if line.startswith("| `deliveryDigest` |"))
    with pytest.raises(AssertionError, match="payload table"):
        check_receipt_fields(text.replace(row + "\n", ""))


def test_a_tampered_receipt_or_another_payload_is_caught() -> None:
    token = joined("receipt")
    payload = example("receipt-payload")
    header, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(AssertionError, match="does not verify"):
        check_receipt(f"{header}.{body}.{flipped}", payload, example_ca())
    from zistboom.core.crypto.keys import generate_private_key
    from zistboom.core.crypto.x509 import create_ca_certificate

    stranger = create_ca_certificate(generate_private_key(), common_name="IR-DEMO Instance CA")
    with pytest.raises(AssertionError, match="does not verify"):
        check_receipt(token, payload, stranger)
    other = json.loads(payload) | {"messageId": "5b1e0c3d-0000-4000-8000-000000000000"}
    with pytest.raises(AssertionError, match="printed"):
        check_receipt(token, json.dumps(other), example_ca())
    reordered = dict(reversed(list(json.loads(payload).items())))
    with pytest.raises(AssertionError, match="printed"):
        check_receipt(token, json.dumps(reordered), example_ca())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: re.sub(r"^zb-message-sequence: .*\n", "", t, flags=re.M), "covers|verify"),
        (lambda t: t.replace(' "zb-message-expires"', ""), "covers|verify"),
        (lambda t: t.replace('"amount":1250000', '"amount":1250001'), "verify"),
        (lambda t: t.replace("zb-message-kind: message", "zb-message-kind: event"), "verify"),
        (lambda t: t.replace("x-road-userid:", "x-road-user:"), "table"),
    ],
)
def test_a_delivery_a_gateway_would_not_send_is_caught(
    change: Callable[[str], str], match: str
) -> None:
    text = change(example("delivery"))
    assert text != example("delivery")
    with pytest.raises(AssertionError, match=match):
        check_delivery(text, joined("receipt"), example_ca(), standard_text())


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("202 Accepted", "200 OK"),
        lambda t: t.replace("Location: /messages/v1/outbox/", "Location: /messages/v1/inbox/"),
        lambda t: t.replace('"duplicate":false', '"duplicate":"no"'),
        lambda t: t.replace('"status":"accepted"', '"status":"queued"'),
    ],
)
def test_a_submission_answer_the_gateway_would_not_give_is_caught(
    change: Callable[[str], str],
) -> None:
    response = change(example("submission-response"))
    with pytest.raises(AssertionError):
        check_submission(example("submission-request"), response, example("delivery"))


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.update(status="finished"),
        lambda v: v.pop("cursor"),
        lambda v: v.update(cursor=43),
        lambda v: v.update(receipt=v["receipt"][:-2] + "AA"),
        lambda v: v["transitions"].reverse(),
        lambda v: v.update(kind=v.pop("kind")),  # member order
        lambda v: v["answer"].update(in_reply_to="5b1e0c3d-0000-4000-8000-000000000000"),
        lambda v: v.update(received_at="2026-12-02T09:30:00.530542+00:00"),
    ],
)
def test_a_status_resource_the_gateway_would_not_give_is_caught(
    change: Callable[[dict[str, Any]], Any],
) -> None:
    view = copy.deepcopy(json.loads(example("status-resource")))
    change(view)
    with pytest.raises(AssertionError):
        check_status_resource(
            view, example("delivery"), joined("receipt"), example("submission-request")
        )


@pytest.mark.parametrize(
    "change",
    [
        lambda t: re.sub(r"^x-zistboom-gateway-secret: .*\n", "", t, flags=re.M),
        lambda t: t.replace("/einvoice/invoices\n", "/einvoice\n"),
        lambda t: re.sub(r"^x-road-userid: .*\n", "", t, flags=re.M),
    ],
)
def test_a_push_the_gateway_would_not_send_is_caught(change: Callable[[str], str]) -> None:
    with pytest.raises(AssertionError):
        check_push(change(example("push")), example("delivery"))


def test_tables_other_than_the_codes_are_caught() -> None:
    text = standard_text()
    with pytest.raises(AssertionError, match="permanent"):
        check_permanent(text.replace("- `Server.ServerProxy.InvalidMessage`\n", ""))
    with pytest.raises(AssertionError, match="message_retry_cap_seconds"):
        check_settings(text.replace("_retry_cap_seconds` | 300 |", "_retry_cap_seconds` | 600 |"))
    metrics = section("13.2 Metrics", text)
    row = next(line for line in metrics.splitlines() if "`zistboom_messages_pushed`" in line)
    with pytest.raises(AssertionError, match="metrics"):
        check_metrics(text.replace(row + "\n", ""))
    with pytest.raises(AssertionError, match="commands"):
        check_commands(text.replace("`zistboom gateway messages cancel ID`", "`cancel ID`"))
    with pytest.raises(AssertionError, match="list takes"):
        check_commands(text.replace(" [--json]", ""))
