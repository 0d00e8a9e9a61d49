"""The sender's status ladder in the message store, on SQLite and PostgreSQL: a receiver's status
notice that comes back before the delivery's receipt is recorded (seen under load in
bench/transactions.py) records ``received`` then ``delivered``, in the ladder's order; the
receipt recorded after it is kept and the status stays; recorded first, the notice then moves
the message on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import orjson
import pytest

from zistboom.core.database import begin_immediately, create_engine, migrate, utc_now
from zistboom.core.messaging import REPLIES_SERVICE
from zistboom.gateway.messaging.models import InboxMessage, OutboxMessage
from zistboom.gateway.messaging.store import MessageStore, Submission

SENDER = "IR-DEMO/COM/10101010101/orders"
RECEIVER = "IR-DEMO/GOV/20202020202/inbox"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[MessageStore]:
    engine = create_engine(database_url)
    begin_immediately(engine)
    await migrate(engine, "zistboom.gateway:migrations")
    store = MessageStore(engine)
    yield store
    await store.close()
    await engine.dispose()


async def sent_message(store: MessageStore) -> OutboxMessage:
    submission = Submission(
        kind="message",
        client=SENDER,
        service=f"{RECEIVER}/bench",
        body=b"{}",
        content_type="application/json",
        headers={},
        expires_at=utc_now() + timedelta(hours=1),
    )
    [(row, _)] = await store.submit([submission])
    [claimed] = await store.claim_outbox(10, 60)
    assert claimed.message_id == row.message_id
    assert claimed.status == "sent"
    return claimed


async def notice_of_delivery(store: MessageStore, message_id: str) -> None:
    """The receiving gateway's status notice, stored as the sender's receiver stores it."""
    now = utc_now()
    notice = InboxMessage(
        message_id=f"notice-{message_id[:20]}",
        sender=RECEIVER,
        receiver=SENDER,
        service=f"{SENDER}/{REPLIES_SERVICE}",
        kind="status",
        in_reply_to=message_id,
        answer_status="delivered",
        content_type="application/json",
        body=orjson.dumps({"status": "delivered"}),
        headers={},
        ordered=False,
        status="processed",
        received_at=now,
        expires_at=now + timedelta(days=1),
        receipt="notice-receipt",
        next_push_at=now,
        push_attempts=0,
        duplicates=0,
    )
    _row, duplicate = await store.store_delivery(notice)
    assert not duplicate


async def ladder(store: MessageStore, message_id: str) -> list[str]:
    return [t.status for t in await store.transitions("outbox", message_id)]


async def test_a_receipt_recorded_after_the_notice_is_kept_and_the_status_stays(
    store: MessageStore,
) -> None:
    row = await sent_message(store)
    await notice_of_delivery(store, row.message_id)
    noticed = await store.outbox_message(row.message_id)
    assert noticed.status == "delivered"
    assert noticed.receipt is None
    # Until its receipt comes, the message stays due for another attempt (which the receiver
    # answers with the first receipt).
    assert noticed.next_attempt_at is not None

    received_at = utc_now()
    await store.received(row.id, "the-receipt", received_at, detail="receipt from B")

    after = await store.outbox_message(row.message_id)
    assert after.status == "delivered"
    assert after.receipt == "the-receipt"
    assert after.received_at == received_at
    assert after.delivered_at is not None
    assert after.lease_until is None
    assert after.next_attempt_at is None  # the receipt came: no more attempts
    assert await ladder(store, row.message_id) == ["accepted", "sent", "received", "delivered"]

    # A second receipt for the same message (an attempt whose lease had ended) changes nothing.
    await store.received(row.id, "another-receipt", utc_now(), detail="again")
    assert (await store.outbox_message(row.message_id)).receipt == "the-receipt"
    assert await ladder(store, row.message_id) == ["accepted", "sent", "received", "delivered"]


async def test_a_receipt_recorded_first_is_then_moved_on_by_the_notice(
    store: MessageStore,
) -> None:
    row = await sent_message(store)
    await store.received(row.id, "the-receipt", utc_now(), detail="receipt from B")
    assert (await store.outbox_message(row.message_id)).status == "received"

    await notice_of_delivery(store, row.message_id)

    after = await store.outbox_message(row.message_id)
    assert after.status == "delivered"
    assert after.receipt == "the-receipt"
    assert await ladder(store, row.message_id) == ["accepted", "sent", "received", "delivered"]
