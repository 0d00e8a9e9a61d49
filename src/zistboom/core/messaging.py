"""The asynchronous messaging contract between gateways (ZB-STD-009): the kinds of message, the
status ladder, the headers a delivery carries and its signature covers, and the signed receipt
a receiving gateway answers with (non-repudiation of receipt).

A delivery is an HTTP request from the sending gateway to the receiving one, on the peer port,
``POST /messages/v1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}``, signed like a
synchronous request (ZB-STD-004 §5) with these headers covered besides. ``X-Road-Id`` is the
message's stable id; each attempt's signature carries a fresh nonce, so a message sent again
after a lost receipt is a new signature for the same message, which the receiver stores once.

The receipt is a compact JWS (``typ`` ``zb-receipt+jws``, ``x5c`` the receiving member's
signing certificate) over a JSON object naming the message, the digests of what was received
and the time; it is the body of the signed answer to the delivery.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import orjson
from cryptography import x509

from zistboom.core.crypto import jws
from zistboom.core.crypto.keys import PrivateKey, PublicKey
from zistboom.core.crypto.x509 import (
    certificate_der,
    certificate_identity,
    certificate_public_key,
    load_certificate,
    verify_certificate,
)
from zistboom.core.errors import CryptoError
from zistboom.core.evidence import format_time, parse_time

PREFIX: Final = "/messages/v1/"

Kind = Literal["message", "answer", "status", "event", "subscribe", "unsubscribe", "check"]
KINDS: Final[tuple[str, ...]] = (
    "message",
    "answer",
    "status",
    "event",
    "subscribe",
    "unsubscribe",
    "check",
)
# Kinds an information system receives in its inbox (the others are the gateways' own).
INBOX_KINDS: Final = ("message", "answer", "event")

Status = Literal[
    "accepted", "sent", "received", "delivered", "processed", "rejected", "failed", "cancelled"
]
# The ladder's order: a status is only ever replaced by one further along it.
RANK: Final[dict[str, int]] = {
    "accepted": 0,
    "sent": 1,
    "received": 2,
    "delivered": 3,
    "processed": 4,
    "rejected": 4,
    "failed": 5,
    "cancelled": 5,
}
FINAL: Final = frozenset({"processed", "rejected", "failed", "cancelled"})
ANSWER_STATUSES: Final = ("processed", "rejected")

# The reserved service codes of a subsystem that receive the gateways' own deliveries: a
# business answer or a status notice for a message the subsystem sent, and the events of the
# topics it subscribed to.
REPLIES_SERVICE: Final = "messageReplies"
EVENTS_SERVICE: Final = "messageEvents"
RESERVED_SERVICES: Final = frozenset({REPLIES_SERVICE, EVENTS_SERVICE})

MESSAGE_KIND: Final = "zb-message-kind"
MESSAGE_NONCE: Final = "zb-message-nonce"
MESSAGE_EXPIRES: Final = "zb-message-expires"
IN_REPLY_TO: Final = "zb-in-reply-to"
ANSWER_STATUS: Final = "zb-answer-status"
TOPIC: Final = "zb-topic"
SEQUENCE: Final = "zb-message-sequence"
# The message headers a delivery's signature covers whenever they are present.
SIGNED_HEADERS: Final = (MESSAGE_KIND, MESSAGE_EXPIRES, IN_REPLY_TO, ANSWER_STATUS, TOPIC, SEQUENCE)

RECEIPT_TYPE: Final = "zb-receipt+jws"
RECEIPT_MEDIA_TYPE: Final = "application/zb-receipt+jws"


def receipt_digest(signature_base: bytes, body: bytes) -> str:
    """What the receipt binds to: SHA-256 of the delivery's signature base (its method,
    target, X-Road and message headers, Content-Digest) and of its body, base64."""
    digest = hashlib.sha256(hashlib.sha256(signature_base).digest() + hashlib.sha256(body).digest())
    return base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receiving gateway's signed statement that it stored a message."""

    message_id: str
    kind: str
    sender: str
    """The sending subsystem (the delivery's ``X-Road-Client``)."""
    service: str
    """The service id the delivery was addressed to."""
    content_digest: str
    """The message body's Content-Digest (RFC 9530), as received."""
    delivery_digest: str
    """:func:`receipt_digest` of the delivery that was stored."""
    received_at: datetime
    gateway: str
    """The receiving gateway's id."""
    receiver: str
    """The member whose key signs the receipt (the service's member)."""

    def payload(self) -> dict[str, Any]:
        return {
            "type": "zb-receipt",
            "version": 1,
            "messageId": self.message_id,
            "kind": self.kind,
            "sender": self.sender,
            "service": self.service,
            "contentDigest": self.content_digest,
            "deliveryDigest": self.delivery_digest,
            "receivedAt": format_time(self.received_at),
            "gateway": self.gateway,
            "receiver": self.receiver,
        }

    def sign(self, key: PrivateKey, certificate: x509.Certificate) -> str:
        return jws.sign_jws(
            orjson.dumps(self.payload()),
            key,
            headers={
                "typ": RECEIPT_TYPE,
                "x5c": [base64.b64encode(certificate_der(certificate)).decode()],
            },
        )


_RECEIPT_FIELDS: Final = frozenset(
    {
        "type",
        "version",
        "messageId",
        "kind",
        "sender",
        "service",
        "contentDigest",
        "deliveryDigest",
        "receivedAt",
        "gateway",
        "receiver",
    }
)


def receipt_signer(token: str) -> str:
    """The signer certificate a receipt carries in its ``x5c`` header, base64 DER as carried
    (not yet checked)."""
    header = jws.unverified_header(token)
    chain = header.get("x5c")
    if header.get("typ") != RECEIPT_TYPE:
        raise CryptoError(f"the receipt's typ is {header.get('typ')!r}, not {RECEIPT_TYPE!r}")
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise CryptoError("the receipt carries no signer certificate (x5c)")
    return chain[0]


def receipt_certificate(token: str) -> x509.Certificate:
    """The signer certificate a receipt carries in its ``x5c`` header (not yet checked)."""
    carried = receipt_signer(token)
    try:
        return load_certificate(base64.b64decode(carried, validate=True))
    except Exception as error:
        raise CryptoError(f"the receipt's x5c certificate cannot be read: {error}") from None


def verify_receipt(
    token: str,
    *,
    ca_certificate: x509.Certificate | None,
    at: datetime | None = None,
    revoked_serials: Collection[int] = (),
    expected_member: str | None = None,
) -> Receipt:
    """Check a receipt: its signature with the certificate it carries, that certificate against
    the instance CA (at ``at``, the receipt's own time when not given) and the member it must
    name (``expected_member``, the member of the service the message was addressed to), and
    its payload's form. :class:`CryptoError` says which check failed."""
    certificate = receipt_certificate(token)
    holder = certificate_identity(certificate)
    receipt = read_receipt(token, certificate_public_key(certificate), holder)
    if expected_member is not None and holder != expected_member:
        raise CryptoError(
            f"the receipt must be signed by {expected_member}, not by {holder or 'nobody'}"
        )
    if ca_certificate is not None:
        verify_certificate(
            certificate,
            ca_certificate,
            at=at or receipt.received_at,
            revoked_serials=revoked_serials,
            kind="sign",
            identity=holder,
        )
    return receipt


def read_receipt(token: str, public_key: PublicKey, holder: str | None) -> Receipt:
    """A receipt whose signer certificate was checked already (:func:`verify_receipt` checks
    it; a gateway uses the one it checked and keeps for the member's signatures): its signature
    with that certificate's ``public_key``, its payload's form, and that it names the
    certificate's ``holder`` as the receiver."""
    _header, payload = jws.verify_jws(token, public_key)
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise CryptoError(f"the receipt's payload is not JSON: {error}") from None
    if not isinstance(data, dict) or set(data) != _RECEIPT_FIELDS:
        raise CryptoError("the receipt's payload does not have the receipt's fields")
    if data["type"] != "zb-receipt" or data["version"] != 1:
        raise CryptoError("the payload is not a version 1 receipt")
    for name in _RECEIPT_FIELDS - {"version"}:
        if not isinstance(data[name], str):
            raise CryptoError(f"the receipt's {name} is not a string")
    try:
        received_at = parse_time(data["receivedAt"], field="receivedAt")
    except Exception as error:
        raise CryptoError(f"the receipt's receivedAt is not a time: {error}") from None
    if holder != data["receiver"]:
        raise CryptoError(
            f"the receipt names receiver {data['receiver']}, its certificate {holder or 'nobody'}"
        )
    return Receipt(
        message_id=data["messageId"],
        kind=data["kind"],
        sender=data["sender"],
        service=data["service"],
        content_digest=data["contentDigest"],
        delivery_digest=data["deliveryDigest"],
        received_at=received_at,
        gateway=data["gateway"],
        receiver=data["receiver"],
    )
