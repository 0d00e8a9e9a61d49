"""Asynchronous messages through two real gateways (ZB-STD-009), on SQLite and PostgreSQL: a
finance company's system sends e-invoices to the tax organisation's service; the tax side
receives them pushed to its system or pulls them, and answers. Each step of the status ladder
is seen in order on both sides; the receipt verifies against the receiver's certificate and
names the digests of what was sent; idempotent resubmission, lifetime expiry, access refusal,
forged and tampered deliveries; publish/subscribe to three subscribers, one of them down."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from federation import Federation, GatewayProcess, drain, start_federation, wait_http
from support import free_port
from zistboom.core import messaging as zm
from zistboom.core.crypto import httpsig, keys, x509

SYSTEM = Path(__file__).parent / "message_system.py"
LADDER = ["accepted", "sent", "received", "delivered", "processed"]


@dataclass
class System:
    """A receiving information system process (tests/gateway/message_system.py)."""

    url: str
    process: subprocess.Popen[str]

    def received(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/received", timeout=10).json()

    def down(self) -> None:
        httpx.post(f"{self.url}/down", timeout=10)

    def up(self) -> None:
        httpx.post(f"{self.url}/up", timeout=10)


def start_system() -> System:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SYSTEM), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    drain(process, output)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/received", process, output)
    return System(url, process)


@dataclass
class Parties:
    fed: Federation
    finance: GatewayProcess
    tax: GatewayProcess
    sender: str
    """finance's subsystem"""
    einvoice: str
    """tax's e-invoice service id (pushed to the tax system)"""
    pulled: str
    """tax's service whose subsystem has no push endpoint (pull)"""
    stranger: str
    """a subsystem on finance's gateway with no access right"""
    topic: str
    subscribers: list[str]
    systems: dict[str, System]


@pytest.fixture(scope="module")
def parties(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Parties]:
    root = tmp_path_factory.mktemp("messages")
    fed = start_federation(root, backend_database, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    systems: dict[str, System] = {}
    try:
        finance_member = fed.add_member("Finance company", ["invoicing", "other"], "COM")
        tax_member = fed.add_member("Tax affairs", ["einvoice", "archive", "rates"])
        env = {"ZB_MESSAGE_RETRY_BASE_SECONDS": "0.2", "ZB_MESSAGE_RETRY_CAP_SECONDS": "1"}
        finance = fed.add_gateway("finance", finance_member, env=env)
        tax = fed.add_gateway("tax", tax_member, env=env)
        sender = f"{finance_member}/invoicing"
        stranger = f"{finance_member}/other"
        finance.cli("client", "add", sender)
        finance.cli("client", "add", stranger)
        for code in ("einvoice", "archive", "rates"):
            tax.cli("client", "add", f"{tax_member}/{code}")
        backend = "http://127.0.0.1:9/unused"
        tax.cli("service", "add", f"{tax_member}/einvoice", "invoices", backend, "--ordered")
        tax.cli("service", "add", f"{tax_member}/archive", "invoices", backend)
        tax.cli("service", "add", f"{tax_member}/rates", "changes", backend, "--topic")
        tax.cli("access", "grant", f"{tax_member}/einvoice", "invoices", sender)
        tax.cli("access", "grant", f"{tax_member}/archive", "invoices", sender)
        # Three subscribers of the topic: finance's two subsystems and tax's archive.
        subscribers = [sender, stranger, f"{tax_member}/archive"]
        for subscriber in subscribers:
            tax.cli("access", "grant", f"{tax_member}/rates", "changes", subscriber)
        systems = {name: start_system() for name in ("tax", "finance", "stranger", "archive")}
        tax.cli("client", "push-endpoint", f"{tax_member}/einvoice", "--url",
                f"{systems['tax'].url}/push")  # fmt: skip
        finance.cli("client", "push-endpoint", sender, "--url", f"{systems['finance'].url}/push")
        finance.cli("client", "push-endpoint", stranger, "--url",
                    f"{systems['stranger'].url}/push")  # fmt: skip
        finance.launch()
        tax.launch()
        finance.wait_serving()
        tax.wait_serving()
        yield Parties(
            fed=fed,
            finance=finance,
            tax=tax,
            sender=sender,
            einvoice=f"{tax_member}/einvoice/invoices",
            pulled=f"{tax_member}/archive/invoices",
            stranger=stranger,
            topic=f"{tax_member}/rates/changes",
            subscribers=subscribers,
            systems=systems,
        )
    finally:
        for system in systems.values():
            system.process.terminate()
        fed.stop()


def submit(
    gateway: GatewayProcess,
    client: str,
    service: str,
    body: bytes,
    *,
    key: str | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {"X-Road-Client": client, "Content-Type": content_type}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(
        f"{gateway.url}/messages/v1/{service}", content=body, headers=headers, timeout=30
    )


def get(gateway: GatewayProcess, client: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/messages/v1/{path}",
        headers={"X-Road-Client": client},
        params=params,
        timeout=30,
    )


def post(
    gateway: GatewayProcess, client: str, path: str, body: bytes = b"", **params: Any
) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/messages/v1/{path}",
        headers={"X-Road-Client": client, "Content-Type": "application/json"},
        content=body,
        params=params,
        timeout=30,
    )


def eventually(check: Callable[[], Any], seconds: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what} (last: {last!r})")


def status_of(gateway: GatewayProcess, client: str, message_id: str) -> dict[str, Any]:
    response = get(gateway, client, f"outbox/{message_id}")
    assert response.status_code == 200, response.text
    return response.json()


def ca_certificate(gateway: GatewayProcess) -> Any:
    return x509.load_certificate((gateway.data_dir / "certs" / "ca.pem").read_bytes())


def test_a_pushed_message_climbs_the_ladder_and_its_receipt_verifies(parties: Parties) -> None:
    p = parties
    invoice = orjson.dumps({"invoice": "INV-1", "amount": 1250000, "currency": "IRR"})
    response = submit(p.finance, p.sender, p.einvoice, invoice)
    assert response.status_code == 202, response.text
    accepted = response.json()
    message_id = accepted["id"]
    assert accepted["status"] == "accepted"
    assert response.headers["location"] == f"/messages/v1/outbox/{message_id}"

    pushed = eventually(
        lambda: [m for m in p.systems["tax"].received() if m["id"] == message_id],
        what="the push to the tax system",
    )
    assert base64.b64decode(pushed[0]["body_base64"]) == invoice
    assert pushed[0]["sender"] == p.sender
    assert pushed[0]["kind"] == "message"
    assert pushed[0]["service"] == p.einvoice

    inbox_view = get(p.tax, p.einvoice.rsplit("/", 1)[0], f"inbox/{message_id}").json()
    assert inbox_view["status"] == "delivered"
    answer = orjson.dumps({"tracking": "TAX-98765"})
    answered = post(
        p.tax, p.einvoice.rsplit("/", 1)[0], f"inbox/{message_id}/answer", answer,
        status="processed",
    )  # fmt: skip
    assert answered.status_code == 202, answered.text

    final = eventually(
        lambda: (s := status_of(p.finance, p.sender, message_id))["status"] == "processed" and s,
        what="processed at the sender",
    )
    assert [t["status"] for t in final["transitions"]] == LADDER
    times = [t["at"] for t in final["transitions"]]
    assert times == sorted(times)
    assert base64.b64decode(final["answer"]["body_base64"]) == answer
    assert final["answer"]["answer_status"] == "processed"
    # The answer also reaches the sender's system, pushed, replying to the message.
    replies = eventually(
        lambda: [m for m in p.systems["finance"].received() if m["in_reply_to"] == message_id],
        what="the answer pushed to the finance system",
    )
    assert replies[0]["kind"] == "answer" and replies[0]["answer_status"] == "processed"

    receiving = get(p.tax, p.einvoice.rsplit("/", 1)[0], f"inbox/{message_id}").json()
    assert [t["status"] for t in receiving["transitions"]] == [
        "received", "delivered", "processed",
    ]  # fmt: skip

    receipt = zm.verify_receipt(
        final["receipt"],
        ca_certificate=ca_certificate(p.finance),
        expected_member=p.tax.member_id,
    )
    assert receipt.message_id == message_id
    assert receipt.sender == p.sender
    assert receipt.service == p.einvoice
    assert receipt.content_digest == httpsig.content_digest(invoice)
    assert receipt.receiver == p.tax.member_id
    assert receiving["receipt"] == final["receipt"]
    # Someone else's certificate does not make it a receipt of the tax organisation.
    with pytest.raises(Exception, match="must be signed by"):
        zm.verify_receipt(
            final["receipt"], ca_certificate=None, expected_member=p.finance.member_id
        )


def test_a_pulled_message_is_delivered_when_acknowledged(parties: Parties) -> None:
    p = parties
    archive = p.pulled.rsplit("/", 1)[0]
    body = orjson.dumps({"invoice": "INV-PULL"})
    message_id = submit(p.finance, p.sender, p.pulled, body).json()["id"]
    eventually(
        lambda: status_of(p.finance, p.sender, message_id)["status"] == "received",
        what="received (receipt held)",
    )
    page = get(p.tax, archive, "inbox", limit=500).json()
    items = [m for m in page["items"] if m["id"] == message_id]
    assert items and items[0]["status"] == "received"
    assert base64.b64decode(items[0]["body_base64"]) == body
    raw = get(p.tax, archive, f"inbox/{message_id}/body")
    assert raw.content == body and raw.headers["content-type"] == "application/json"
    # Another subsystem does not see it.
    assert get(p.tax, p.einvoice.rsplit("/", 1)[0], f"inbox/{message_id}").status_code == 404
    acked = post(p.tax, archive, f"inbox/{message_id}/ack")
    assert acked.status_code == 200 and acked.json()["status"] == "delivered"
    assert post(p.tax, archive, f"inbox/{message_id}/ack").json()["status"] == "delivered"
    final = eventually(
        lambda: (s := status_of(p.finance, p.sender, message_id))["status"] == "delivered" and s,
        what="delivered at the sender",
    )
    assert [t["status"] for t in final["transitions"]] == LADDER[:4]
    rejected = post(p.tax, archive, f"inbox/{message_id}/answer", b"{}", status="rejected")
    assert rejected.status_code == 202
    eventually(
        lambda: status_of(p.finance, p.sender, message_id)["status"] == "rejected",
        what="rejected at the sender",
    )
    again = post(p.tax, archive, f"inbox/{message_id}/answer", b"{}", status="processed")
    assert again.status_code == 409, again.text


def test_an_ordered_service_gets_messages_in_order(parties: Parties) -> None:
    p = parties
    ids = [
        submit(p.finance, p.sender, p.einvoice, orjson.dumps({"n": n})).json()["id"]
        for n in range(20)
    ]
    order = eventually(
        lambda: (
            (seen := [m["id"] for m in p.systems["tax"].received() if m["id"] in ids])
            and len(seen) == len(ids)
            and seen
        ),
        what="all 20 pushed",
    )
    assert order == ids


def test_a_resubmission_with_the_same_key_is_the_same_message(parties: Parties) -> None:
    p = parties
    key = f"invoice-{uuid.uuid4()}"
    first = submit(p.finance, p.sender, p.pulled, b'{"invoice":"INV-K"}', key=key)
    second = submit(p.finance, p.sender, p.pulled, b'{"invoice":"INV-K"}', key=key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["duplicate"] is True
    elsewhere = submit(p.finance, p.sender, p.einvoice, b"{}", key=key)
    assert elsewhere.status_code == 409, elsewhere.text
    assert "Idempotency-Key" in elsewhere.json()["detail"]
    # Another client's same key is its own.
    other = submit(p.finance, p.stranger, p.topic.replace("rates/changes", "x/y"), b"{}", key=key)
    assert other.status_code != 202 or other.json()["id"] != first.json()["id"]


def test_an_unauthorised_sender_is_refused_at_submission(parties: Parties) -> None:
    p = parties
    response = submit(p.finance, p.stranger, p.einvoice, b'{"invoice":"INV-X"}')
    assert response.status_code == 403, response.text
    assert response.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["xroadType"] == "Server.ServerProxy.AccessDenied"
    assert p.stranger in problem["detail"]
    listed = get(p.finance, p.stranger, "outbox").json()["items"]
    assert not [m for m in listed if m["kind"] == "message"]


def test_the_queues_show_in_the_metrics(parties: Parties) -> None:
    p = parties
    submit(p.finance, p.sender, p.pulled, b'{"invoice":"INV-M"}')
    time.sleep(6)  # the depth is read every five seconds
    text = httpx.get(f"{p.tax.url}/metrics", timeout=10).text
    for name in (
        'zistboom_messages_queue_depth{box="inbox"}',
        'zistboom_messages_oldest_seconds{box="outbox"}',
        "zistboom_messages_receipts_total",
        "zistboom_messages_retries_total",
        "zistboom_messages_duplicates_total",
        "zistboom_messages_failed ",
    ):
        assert name in text, name
    waiting = float(text.split('zistboom_messages_queue_depth{box="inbox"} ')[1].split()[0])
    assert waiting >= 1  # the pulled messages nobody acknowledged


def test_unknown_services_and_bad_requests_are_explained(parties: Parties) -> None:
    p = parties
    unknown = submit(p.finance, p.sender, p.einvoice.replace("invoices", "nothing"), b"{}")
    assert unknown.status_code == 404
    assert unknown.headers["x-road-error"] == "Server.ServerProxy.UnknownService"
    missing = httpx.post(f"{p.finance.url}/messages/v1/{p.einvoice}", content=b"{}", timeout=10)
    assert missing.status_code == 400 and "X-Road-Client" in missing.json()["detail"]
    reserved = submit(p.finance, p.sender, p.einvoice.replace("invoices", "messageReplies"), b"")
    assert reserved.status_code == 400 and "reserved" in reserved.json()["detail"]
    page = get(p.finance, p.sender, "outbox", limit=0)
    assert page.status_code == 422 and page.json()["errors"][0]["field"] == "limit"
    assert get(p.finance, p.sender, "outbox/no-such-id").status_code == 404
    spec = httpx.get(f"{p.finance.url}/messages/v1/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.")
    assert "/messages/v1/inbox/{id}/ack" in spec["paths"]


def test_a_message_past_its_lifetime_fails_with_a_reason(parties: Parties) -> None:
    p = parties
    # The receiving gateway is stopped; the sender's lifetime is short.
    p.tax.stop()
    try:
        p.finance.stop()
        p.finance.env["ZB_MESSAGE_LIFETIME_SECONDS"] = "3"
        p.finance.start()
        message_id = submit(p.finance, p.sender, p.pulled, b'{"invoice":"INV-LATE"}').json()["id"]
        final = eventually(
            lambda: (s := status_of(p.finance, p.sender, message_id))["status"] == "failed" and s,
            seconds=30,
            what="failed after its lifetime",
        )
        assert "lifetime" in final["reason"]
        assert "cannot reach" in final["reason"] or "ClientProxy" in final["reason"]
        assert final["attempts"] >= 2
        assert [t["status"] for t in final["transitions"]] == ["accepted", "sent", "failed"]
        shown = p.finance.cli("messages", "show", message_id).stdout
        assert '"failed"' in shown
    finally:
        p.finance.stop()
        p.finance.env.pop("ZB_MESSAGE_LIFETIME_SECONDS")
        p.finance.launch()
        p.tax.launch()
        p.finance.wait_serving()
        p.tax.wait_serving()
    # Retried by the operator with a fresh lifetime, it goes through now the receiver is back.
    retried = p.finance.cli("messages", "retry", message_id)
    assert "due now" in retried.stdout
    eventually(
        lambda: status_of(p.finance, p.sender, message_id)["status"] == "received",
        what="received after the retry",
    )


def _crafted_delivery(
    p: Parties,
    *,
    body: bytes,
    sent_body: bytes | None = None,
    kind: str = "message",
    message_id: str | None = None,
    service: str | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    """A delivery as finance's gateway would send it (to ``service``, with the ``extra`` zb-*
    headers signed too), possibly tampered with."""
    name = "sign-" + p.finance.member_id.replace("/", "_")
    key = keys.load_private_key(p.finance.data_dir / "keys" / f"{name}.key")
    cert = x509.load_certificate((p.finance.data_dir / "certs" / f"{name}.pem").read_bytes())
    message_id = message_id or str(uuid.uuid4())
    uri = f"https://127.0.0.1:{p.tax.peer_port}/messages/v1/{service or p.pulled}"
    headers = {
        "content-type": "application/json",
        "x-road-client": p.sender,
        "x-road-id": message_id,
        "zb-message-kind": kind,
        "content-digest": httpsig.content_digest(body),
        "zb-signer-certificate": base64.b64encode(x509.certificate_der(cert)).decode(),
        **(extra or {}),
    }
    signed = httpsig.sign_request(
        httpsig.RequestParts("POST", uri, headers),
        components=[
            '"@method"', '"@path"', '"@query"', '"content-digest"', '"x-road-client"',
            '"x-road-id"', '"zb-signer-certificate"', '"content-type"', '"zb-message-kind"',
            *(f'"{name}"' for name in extra or {}),
        ],
        key=key,
        key_id=x509.certificate_fingerprint(cert),
        created=int(time.time()),
        nonce=message_id,
    )  # fmt: skip
    headers["signature-input"] = signed.signature_input
    headers["signature"] = signed.signature
    import ssl

    context = ssl.create_default_context(cafile=str(p.finance.data_dir / "certs" / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(p.finance.data_dir / "certs" / "auth.pem"),
        str(p.finance.data_dir / "keys" / "auth.key"),
    )
    with httpx.Client(verify=context, timeout=30) as peer:
        return peer.post(uri, headers=headers, content=sent_body if sent_body is not None else body)


def test_a_forged_or_tampered_delivery_is_refused(parties: Parties) -> None:
    p = parties
    good = _crafted_delivery(p, body=b'{"invoice":"INV-C"}')
    assert good.status_code == 200, good.text
    assert good.headers["content-type"] == zm.RECEIPT_MEDIA_TYPE
    zm.verify_receipt(good.text, ca_certificate=ca_certificate(p.tax))
    again = _crafted_delivery(p, body=b'{"invoice":"INV-C"}', sent_body=b'{"invoice":"INV-D"}')
    assert again.status_code == 400
    assert again.headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"
    inbox = get(p.tax, p.pulled.rsplit("/", 1)[0], "inbox", limit=500).json()["items"]
    bodies = [base64.b64decode(m["body_base64"]) for m in inbox]
    assert b'{"invoice":"INV-D"}' not in bodies
    # A delivery signed by a key the CA never certified for finance.
    other_key = keys.generate_private_key("ec-p256")
    uri = f"https://127.0.0.1:{p.tax.peer_port}/messages/v1/{p.pulled}"
    headers = {
        "x-road-client": p.sender,
        "x-road-id": str(uuid.uuid4()),
        "zb-message-kind": "message",
        "content-digest": httpsig.content_digest(b"{}"),
    }
    signed = httpsig.sign_request(
        httpsig.RequestParts("POST", uri, headers),
        components=['"@method"', '"@path"', '"content-digest"', '"x-road-client"', '"x-road-id"'],
        key=other_key,
        key_id="forged",
        created=int(time.time()),
        nonce=headers["x-road-id"],
    )
    headers["signature-input"] = signed.signature_input
    headers["signature"] = signed.signature
    import ssl

    context = ssl.create_default_context(cafile=str(p.finance.data_dir / "certs" / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(p.finance.data_dir / "certs" / "auth.pem"),
        str(p.finance.data_dir / "keys" / "auth.key"),
    )
    with httpx.Client(verify=context, timeout=30) as peer:
        forged = peer.post(uri, headers=headers, content=b"{}")
    assert forged.status_code in (400, 401, 403), forged.text
    assert forged.headers["x-road-error"] == "Server.ServerProxy.InvalidSignature"


def test_a_status_notice_of_another_form_or_for_messages_not_sent_to_its_sender_is_refused(
    parties: Parties,
) -> None:
    """ZB-STD-009 §5.4: a notice lists the messages it reports; the receiving gateway reads its
    form, and records nothing unless every message it names went to the notice's sender."""
    p = parties
    replies = p.pulled.rsplit("/", 1)[0] + "/" + zm.REPLIES_SERVICE
    notice = {"zb-answer-status": "delivered"}

    def sent(messages: object) -> httpx.Response:
        return _crafted_delivery(
            p, body=orjson.dumps(messages), kind="status", service=replies, extra=notice
        )

    for malformed in (
        {"status": "delivered", "messages": []},
        {"status": "delivered", "messages": [{"id": str(i)} for i in range(501)]},
        {"status": "processed", "messages": [{"id": "x"}]},
        {"status": "delivered", "ids": ["x"]},
    ):
        refused = sent(malformed)
        assert refused.status_code == 400, (malformed, refused.text)
        assert refused.headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"
    # tax's subsystem never sent finance these: refused, naming the one it did not send.
    unknown = str(uuid.uuid4())
    refused = sent({"status": "delivered", "messages": [{"id": unknown, "at": "2026-12-03"}]})
    assert refused.headers["x-road-error"] == "Server.ServerProxy.AccessDenied", refused.text
    assert unknown in refused.json()["message"]


def test_a_delivery_sent_twice_is_stored_once_with_the_same_receipt(parties: Parties) -> None:
    p = parties
    message_id = str(uuid.uuid4())
    first = _crafted_delivery(p, body=b'{"invoice":"INV-TWICE"}', message_id=message_id)
    receipt = zm.verify_receipt(first.text, ca_certificate=ca_certificate(p.tax))
    time.sleep(1.1)  # another second: another signature for the same message
    second = _crafted_delivery(p, body=b'{"invoice":"INV-TWICE"}', message_id=message_id)
    assert second.status_code == 200
    assert second.text == first.text
    assert second.headers["signature"] != first.headers["signature"]
    view = get(p.tax, p.pulled.rsplit("/", 1)[0], f"inbox/{message_id}").json()
    assert view["duplicates"] == 1
    listed = p.tax.cli("messages", "list", "--box", "inbox", "--json", "--limit", "500").stdout
    rows = [orjson.loads(line) for line in listed.splitlines() if line.strip()]
    assert sum(1 for r in rows if r["id"] == receipt.message_id) == 1


def test_publish_subscribe_reaches_three_subscribers_one_catching_up(parties: Parties) -> None:
    p = parties
    stranger_system = p.systems["stranger"]
    for subscriber in p.subscribers:
        gateway = p.tax if subscriber.startswith(p.tax.member_id) else p.finance
        response = post(gateway, subscriber, f"subscriptions/{p.topic}")
        assert response.status_code == 202, response.text
        sub_id = response.json()["id"]
        eventually(
            lambda g=gateway, s=subscriber, i=sub_id: status_of(g, s, i)["status"] == "received",
            what=f"subscription of {subscriber}",
        )
    stranger_system.down()
    event = orjson.dumps({"rate": "VAT", "from": "1405-01-01", "percent": 10})
    published = post(p.tax, p.topic.rsplit("/", 1)[0], f"topics/{p.topic}/events", event)
    assert published.status_code == 202, published.text
    deliveries = published.json()["deliveries"]
    assert sorted(d["subscriber"] for d in deliveries) == sorted(p.subscribers)
    by_subscriber = {d["subscriber"]: d["id"] for d in deliveries}
    publisher = p.topic.rsplit("/", 1)[0]

    def statuses() -> dict[str, str]:
        return {s: status_of(p.tax, publisher, i)["status"] for s, i in by_subscriber.items()}

    eventually(
        lambda: statuses()[p.sender] == "delivered",
        what="delivered to the subscriber that is up",
    )
    archive = p.subscribers[2]
    eventually(lambda: statuses()[archive] == "received", what="received by the pulling subscriber")
    assert statuses()[p.stranger] == "received"  # its gateway has it; its system is down
    pulled = get(p.tax, archive, "inbox", limit=500).json()["items"]
    assert [m for m in pulled if m["kind"] == "event" and m["topic"] == p.topic]
    post(p.tax, archive, f"inbox/{by_subscriber[archive]}/ack")
    stranger_system.up()
    final = eventually(
        lambda: (s := statuses()) and all(v == "delivered" for v in s.values()) and s,
        what="every subscriber delivered",
    )
    assert len(final) == 3
    got = [m for m in stranger_system.received() if m["kind"] == "event"]
    assert base64.b64decode(got[-1]["body_base64"]) == event
    view = status_of(p.tax, publisher, by_subscriber[p.stranger])
    assert {d["subscriber"] for d in view["deliveries"]} == set(p.subscribers)
    # A publication sent again with its idempotency key is the same event.
    keyed = {"X-Road-Client": publisher, "Idempotency-Key": f"rates-{uuid.uuid4()}"}
    url = f"{p.tax.url}/messages/v1/topics/{p.topic}/events"
    first = httpx.post(url, content=event, headers=keyed, timeout=30).json()
    again = httpx.post(url, content=event, headers=keyed, timeout=30).json()
    assert first["event_id"] == again["event_id"]
    assert [d["id"] for d in first["deliveries"]] == [d["id"] for d in again["deliveries"]]
    assert len(first["deliveries"]) == 3
    # Publishing is for the topic's own subsystem only.
    foreign = post(p.finance, p.sender, f"topics/{p.topic}/events", event)
    assert foreign.status_code == 403


def test_the_evidence_of_a_message_holds_its_receipt(parties: Parties, tmp_path: Path) -> None:
    from central_process import ZISTBOOM

    p = parties
    body = orjson.dumps({"invoice": "INV-EVIDENCE", "amount": 990000})
    message_id = submit(p.finance, p.sender, p.pulled, body).json()["id"]
    eventually(
        lambda: status_of(p.finance, p.sender, message_id)["status"] == "received",
        what="received",
    )
    out = tmp_path / "bundle.json"

    def export() -> dict[str, Any] | None:
        done = subprocess.run(
            [ZISTBOOM, "evidence", "export", "--data-dir", str(p.finance.data_dir),
             "--message-id", message_id, "--out", str(out)],
            env=p.finance.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        bundle = orjson.loads(out.read_bytes())
        sealed = all(r["batch"] is not None for r in bundle["records"])
        return bundle if sealed else None

    bundle = eventually(export, what="the message's records sealed and timestamped")
    responses = [r for r in bundle["records"] if r["kind"] == "response"]
    receipt_records = [
        r for r in responses if r["headers"].get("content-type") == zm.RECEIPT_MEDIA_TYPE
    ]
    assert receipt_records, "the receipt is in the bundle"
    receipt = zm.verify_receipt(
        base64.b64decode(receipt_records[0]["body"]).decode(),
        ca_certificate=ca_certificate(p.finance),
    )
    assert receipt.message_id == message_id
    assert receipt.content_digest == httpsig.content_digest(body)

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ZISTBOOM, "evidence", "verify", str(path), "--ca",
             str(p.finance.data_dir / "certs" / "ca.pem")],
            capture_output=True, text=True, timeout=60, env={"COLUMNS": "200", "PATH": ""},
        )  # fmt: skip

    passed = verify(out)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "all checks hold" in passed.stdout

    # One byte of the receipt changed: the record that holds it is named as failing.
    record = receipt_records[0]
    receipt_bytes = bytearray(base64.b64decode(record["body"]))
    receipt_bytes[len(receipt_bytes) // 2] ^= 0x01
    record["body"] = base64.b64encode(bytes(receipt_bytes)).decode()
    changed = tmp_path / "changed.json"
    changed.write_bytes(orjson.dumps(bundle))
    failed = verify(changed)
    assert failed.returncode == 1, failed.stdout
    failures = [line for line in failed.stdout.splitlines() if line.startswith("FAILED")]
    assert failures and all(f"seq {record['seq']}" in line for line in failures), failures
    assert any("body" in line or "receipt" in line for line in failures)
