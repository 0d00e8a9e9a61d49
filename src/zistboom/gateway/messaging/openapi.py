"""The OpenAPI 3.1 description of the messages interface (served at
``GET /messages/v1/openapi.json`` on the client port)."""

from __future__ import annotations

from typing import Any

_SERVICE_PARAMS = [
    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    for name in ("instance", "memberClass", "member", "subsystem", "service")
]
_SERVICE_PATH = "{instance}/{memberClass}/{member}/{subsystem}/{service}"
_CLIENT = {
    "name": "X-Road-Client",
    "in": "header",
    "required": True,
    "description": "the calling subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM",
    "schema": {"type": "string"},
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_PAGE = [
    {
        "name": "after",
        "in": "query",
        "description": "the cursor of the last item seen (0 for the first page)",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    },
    {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
]


def _problem(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "refused; the problem says why",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for status in statuses
    }


def _ok(schema: str, status: int = 200, description: str = "done") -> dict[str, Any]:
    return {
        str(status): {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


_ANY_BODY = {
    "required": False,
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
}
_ERRORS = _problem(400, 403, 404, 409, 413, 500, 502, 503)


def openapi_document() -> dict[str, Any]:
    nullable_string = {"type": ["string", "null"]}
    nullable_time = {"type": ["string", "null"], "format": "date-time"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Zistboom gateway: asynchronous messages",
            "version": "1.0",
            "description": (
                "Store-and-forward messages between subsystems on the gateways (ZB-STD-009): "
                "durable submission, signed receipts, retries, duplicate elimination, a status "
                "ladder accepted → sent → received → delivered → processed | rejected, or "
                "failed with a reason; and publish/subscribe."
            ),
        },
        "paths": {
            f"/messages/v1/{_SERVICE_PATH}": {
                "post": {
                    "operationId": "submitMessage",
                    "summary": "Submit a message to a service; durable before the 202",
                    "parameters": [
                        *_SERVICE_PARAMS,
                        _CLIENT,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "description": "a resubmission with the same key returns the same "
                            "message",
                            "schema": {"type": "string", "maxLength": 255},
                        },
                    ],
                    "requestBody": _ANY_BODY,
                    "responses": {**_ok("Accepted", 202, "accepted"), **_ERRORS},
                }
            },
            "/messages/v1/outbox": {
                "get": {
                    "operationId": "listOutbox",
                    "parameters": [_CLIENT, *_PAGE],
                    "responses": {**_ok("OutboxPage"), **_ERRORS},
                }
            },
            "/messages/v1/outbox/{id}": {
                "get": {
                    "operationId": "getMessageStatus",
                    "summary": "A sent message's status, transitions, receipt and answer",
                    "parameters": [_ID, _CLIENT],
                    "responses": {**_ok("OutboxMessage"), **_ERRORS},
                }
            },
            "/messages/v1/inbox": {
                "get": {
                    "operationId": "listInbox",
                    "summary": "Pull received messages (acknowledge each one)",
                    "parameters": [_CLIENT, *_PAGE],
                    "responses": {**_ok("InboxPage"), **_ERRORS},
                }
            },
            "/messages/v1/inbox/{id}": {
                "get": {
                    "operationId": "getInboxMessage",
                    "parameters": [_ID, _CLIENT],
                    "responses": {**_ok("InboxMessage"), **_ERRORS},
                }
            },
            "/messages/v1/inbox/{id}/body": {
                "get": {
                    "operationId": "getInboxMessageBody",
                    "parameters": [_ID, _CLIENT],
                    "responses": {
                        "200": {
                            "description": "the body as sent, with its content type",
                            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                        },
                        **_ERRORS,
                    },
                }
            },
            "/messages/v1/inbox/{id}/ack": {
                "post": {
                    "operationId": "acknowledgeMessage",
                    "summary": "The system has the message: delivered (idempotent)",
                    "parameters": [_ID, _CLIENT],
                    "responses": {**_ok("Acknowledged"), **_ERRORS},
                }
            },
            "/messages/v1/inbox/{id}/answer": {
                "post": {
                    "operationId": "answerMessage",
                    "summary": "The business answer, sent back to the message's sender",
                    "parameters": [
                        _ID,
                        _CLIENT,
                        {
                            "name": "status",
                            "in": "query",
                            "required": True,
                            "schema": {"enum": ["processed", "rejected"]},
                        },
                    ],
                    "requestBody": _ANY_BODY,
                    "responses": {**_ok("Accepted", 202, "accepted"), **_ERRORS},
                }
            },
            f"/messages/v1/subscriptions/{_SERVICE_PATH}": {
                "post": {
                    "operationId": "subscribe",
                    "parameters": [*_SERVICE_PARAMS, _CLIENT],
                    "responses": {**_ok("Accepted", 202, "accepted"), **_ERRORS},
                },
                "delete": {
                    "operationId": "unsubscribe",
                    "parameters": [*_SERVICE_PARAMS, _CLIENT],
                    "responses": {**_ok("Accepted", 202, "accepted"), **_ERRORS},
                },
            },
            f"/messages/v1/topics/{_SERVICE_PATH}/events": {
                "post": {
                    "operationId": "publishEvent",
                    "summary": "Publish one event to every subscriber of the caller's topic",
                    "parameters": [
                        *_SERVICE_PARAMS,
                        _CLIENT,
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                    ],
                    "requestBody": _ANY_BODY,
                    "responses": {**_ok("Published", 202, "accepted"), **_ERRORS},
                }
            },
        },
        "components": {
            "schemas": {
                "Status": {
                    "enum": [
                        "accepted",
                        "sent",
                        "received",
                        "delivered",
                        "processed",
                        "rejected",
                        "failed",
                        "cancelled",
                    ]
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "xroadType": {"type": "string"},
                    },
                },
                "Accepted": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "duplicate": {"type": "boolean"},
                        "topic": nullable_string,
                        "in_reply_to": nullable_string,
                    },
                },
                "Acknowledged": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
                },
                "Transition": {
                    "type": "object",
                    "required": ["status", "at"],
                    "properties": {
                        "status": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                        "detail": nullable_string,
                    },
                },
                "OutboxMessage": {
                    "type": "object",
                    "required": ["id", "cursor", "kind", "status", "client", "service"],
                    "properties": {
                        "id": {"type": "string"},
                        "cursor": {"type": "integer"},
                        "kind": {"type": "string"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "reason": nullable_string,
                        "client": {"type": "string"},
                        "service": {"type": "string"},
                        "topic": nullable_string,
                        "event_id": nullable_string,
                        "in_reply_to": nullable_string,
                        "idempotency_key": nullable_string,
                        "content_type": nullable_string,
                        "attempts": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "expires_at": {"type": "string", "format": "date-time"},
                        "next_attempt_at": nullable_time,
                        "received_at": nullable_time,
                        "delivered_at": nullable_time,
                        "answered_at": nullable_time,
                        "answer_id": nullable_string,
                        "receipt": {
                            "type": ["string", "null"],
                            "description": "the receiving gateway's receipt, a compact JWS",
                        },
                        "transitions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Transition"},
                        },
                        "answer": {"$ref": "#/components/schemas/InboxMessage"},
                        "deliveries": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "InboxMessage": {
                    "type": "object",
                    "required": ["id", "cursor", "kind", "sender", "service", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "cursor": {"type": "integer"},
                        "kind": {"enum": ["message", "answer", "event"]},
                        "sender": {"type": "string"},
                        "service": {"type": "string"},
                        "status": {"type": "string"},
                        "in_reply_to": nullable_string,
                        "answer_status": nullable_string,
                        "topic": nullable_string,
                        "content_type": nullable_string,
                        "headers": {"type": "object"},
                        "body_base64": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"},
                        "delivered_at": nullable_time,
                        "answered_at": nullable_time,
                        "receipt": {"type": "string"},
                        "duplicates": {"type": "integer"},
                        "transitions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Transition"},
                        },
                    },
                },
                "OutboxPage": {
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/OutboxMessage"},
                        },
                        "next": {"type": ["integer", "null"]},
                    },
                },
                "InboxPage": {
                    "type": "object",
                    "required": ["items", "next"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/InboxMessage"},
                        },
                        "next": {"type": ["integer", "null"]},
                    },
                },
                "Published": {
                    "type": "object",
                    "required": ["event_id", "topic", "deliveries"],
                    "properties": {
                        "event_id": {"type": "string"},
                        "topic": {"type": "string"},
                        "deliveries": {"type": "array", "items": {"type": "object"}},
                    },
                },
            }
        },
    }
