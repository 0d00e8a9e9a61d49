"""The asynchronous messaging interface towards information systems, on the gateway's client
port beside ``r1`` (ZB-STD-009 §3): submit, read status, list outbox and inbox, acknowledge,
answer, subscribe and publish. Callers are identified as for ``r1`` (``X-Road-Client``, a
registered TLS client certificate or loopback); errors are RFC 9457 problem details, with the
X-Road error type in ``X-Road-Error`` and ``xroadType`` when the exchange raised them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from zistboom.core import exchange as xr
from zistboom.core.errors import PROBLEM_BASE, ValidationError, ZistboomError
from zistboom.core.identifiers import ServiceId, SubsystemId, parse_client_header
from zistboom.gateway.client_side import ClientSide
from zistboom.gateway.message import read_body
from zistboom.gateway.messaging.openapi import openapi_document
from zistboom.gateway.messaging.service import Messaging, inbox_json, outbox_json
from zistboom.gateway.messaging.store import MAX_PAGE

PROBLEM_JSON = "application/problem+json"
SERVICE = "{instance}/{member_class}/{member}/{subsystem}/{service}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(error: ZistboomError, instance: str) -> web.Response:
    headers: dict[str, str] = {}
    if isinstance(error, xr.ExchangeError):
        document: dict[str, Any] = {
            "type": PROBLEM_BASE + "exchange/" + error.xroad_type,
            "title": error.xroad_type,
            "status": error.status,
            "detail": error.message,
            "instance": instance,
            "xroadType": error.xroad_type,
        }
        headers[xr.X_ROAD_ERROR] = error.xroad_type
        status = error.status
    else:
        document = error.to_problem(instance)
        status = error.status
    return web.Response(
        status=status, body=orjson.dumps(document), content_type=PROBLEM_JSON, headers=headers
    )


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )


class MessagesApi:
    def __init__(self, messaging: Messaging, client_side: ClientSide) -> None:
        self.messaging = messaging
        self.client_side = client_side

    def routes(self) -> list[web.RouteDef]:
        p = "/messages/v1"
        return [
            web.get(f"{p}/openapi.json", self.openapi),
            web.get(f"{p}/outbox", self._wrap(self.list_outbox)),
            web.get(p + "/outbox/{id}", self._wrap(self.get_outbox)),
            web.get(f"{p}/inbox", self._wrap(self.list_inbox)),
            web.get(p + "/inbox/{id}", self._wrap(self.get_inbox)),
            web.get(p + "/inbox/{id}/body", self._wrap(self.get_inbox_body)),
            web.post(p + "/inbox/{id}/ack", self._wrap(self.ack)),
            web.post(p + "/inbox/{id}/answer", self._wrap(self.answer)),
            web.post(f"{p}/subscriptions/{SERVICE}", self._wrap(self.subscribe)),
            web.delete(f"{p}/subscriptions/{SERVICE}", self._wrap(self.unsubscribe)),
            web.post(f"{p}/topics/{SERVICE}/events", self._wrap(self.publish)),
            web.post(f"{p}/{SERVICE}", self._wrap(self.submit)),
            web.route("*", p + "/{tail:.*}", self._wrap(self.not_found)),
        ]

    def _wrap(self, handler: Callable[[web.Request, str], Awaitable[web.Response]]) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                client_id = await self._caller(request)
                return await handler(request, client_id)
            except ZistboomError as error:
                return problem(error, request.path)

        return wrapped

    async def _caller(self, request: web.Request) -> str:
        clients = request.headers.getall(xr.X_ROAD_CLIENT, [])
        if not clients:
            raise xr.InvalidClientIdentifier("the X-Road-Client header is missing")
        try:
            client = parse_client_header(clients[-1])
        except ValidationError as error:
            raise xr.InvalidClientIdentifier(error.detail) from error
        if not isinstance(client, SubsystemId):
            raise xr.InvalidClientIdentifier("asynchronous messages are sent by subsystems")
        client_id = str(client)
        await self.client_side.registry.current()
        self.client_side._check_local_caller(request, client_id)
        return client_id

    @staticmethod
    def _service(request: web.Request) -> ServiceId:
        info = request.match_info
        path = "/".join(
            info[name] for name in ("instance", "member_class", "member", "subsystem", "service")
        )
        try:
            return ServiceId.parse_path(path, field="service")
        except ValidationError as error:
            raise xr.InvalidServiceIdentifier(error.detail) from error

    @staticmethod
    def _page(request: web.Request) -> tuple[int, int]:
        try:
            after = int(request.query.get("after", "0"))
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            raise ValidationError("after and limit are whole numbers", field="after") from None
        if after < 0 or not 1 <= limit <= MAX_PAGE:
            raise ValidationError(
                f"after is at least 0 and limit from 1 to {MAX_PAGE}", field="limit"
            )
        return after, limit

    async def _body(self, request: web.Request) -> bytes:
        settings = self.client_side.settings
        return await read_body(request, settings.max_body_bytes, xr.RequestTooLarge)

    async def openapi(self, request: web.Request) -> web.Response:
        return json(openapi_document())

    async def not_found(self, request: web.Request, client_id: str) -> web.Response:
        raise xr.BadRequest(
            f"{request.method} {request.path} is not part of the messages interface "
            "(GET /messages/v1/openapi.json describes it)"
        )

    async def submit(self, request: web.Request, client_id: str) -> web.Response:
        service = self._service(request)
        body = await self._body(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        row, existed = await self.messaging.submit(
            client_id,
            service,
            body,
            request.headers.get("Content-Type"),
            headers,
            request.headers.get("Idempotency-Key"),
        )
        location = f"/messages/v1/outbox/{row.message_id}"
        return json(
            {"id": row.message_id, "status": row.status, "duplicate": existed},
            status=202,
            headers={"Location": location, xr.X_ROAD_ID: row.message_id},
        )

    async def list_outbox(self, request: web.Request, client_id: str) -> web.Response:
        after, limit = self._page(request)
        status = request.query.get("status")
        rows = await self.messaging.store.list_outbox(
            client_id,
            after=after,
            limit=limit,
            status=status,
            kinds=("message", "event", "subscribe", "unsubscribe", "answer"),
        )
        return json(
            {
                "items": [outbox_json(r) for r in rows],
                "next": rows[-1].id if len(rows) == limit else None,
            }
        )

    async def get_outbox(self, request: web.Request, client_id: str) -> web.Response:
        return json(await self.messaging.status(request.match_info["id"], client_id))

    async def list_inbox(self, request: web.Request, client_id: str) -> web.Response:
        after, limit = self._page(request)
        rows = await self.messaging.store.list_inbox(
            client_id, after=after, limit=limit, status=request.query.get("status")
        )
        return json(
            {
                "items": [inbox_json(r) for r in rows],
                "next": rows[-1].id if len(rows) == limit else None,
            }
        )

    async def get_inbox(self, request: web.Request, client_id: str) -> web.Response:
        return json(await self.messaging.inbox_view(client_id, request.match_info["id"]))

    async def get_inbox_body(self, request: web.Request, client_id: str) -> web.Response:
        row = await self.messaging.store.inbox_message(client_id, request.match_info["id"])
        headers = {xr.X_ROAD_ID: row.message_id, xr.X_ROAD_CLIENT: row.sender}
        if row.content_type:
            headers["Content-Type"] = row.content_type
        return web.Response(body=row.body, headers=headers)

    async def ack(self, request: web.Request, client_id: str) -> web.Response:
        row = await self.messaging.acknowledge(client_id, request.match_info["id"])
        return json({"id": row.message_id, "status": row.status})

    async def answer(self, request: web.Request, client_id: str) -> web.Response:
        status = request.query.get("status", "")
        body = await self._body(request)
        row = await self.messaging.answer(
            client_id,
            request.match_info["id"],
            status,
            body,
            request.headers.get("Content-Type"),
        )
        return json(
            {"id": row.message_id, "status": row.status, "in_reply_to": row.in_reply_to},
            status=202,
            headers={"Location": f"/messages/v1/outbox/{row.message_id}"},
        )

    async def subscribe(self, request: web.Request, client_id: str) -> web.Response:
        row = await self.messaging.subscribe(client_id, self._service(request))
        return json(
            {"id": row.message_id, "status": row.status, "topic": row.topic},
            status=202,
            headers={"Location": f"/messages/v1/outbox/{row.message_id}"},
        )

    async def unsubscribe(self, request: web.Request, client_id: str) -> web.Response:
        row = await self.messaging.subscribe(client_id, self._service(request), unsubscribe=True)
        return json(
            {"id": row.message_id, "status": row.status, "topic": row.topic},
            status=202,
            headers={"Location": f"/messages/v1/outbox/{row.message_id}"},
        )

    async def publish(self, request: web.Request, client_id: str) -> web.Response:
        topic = self._service(request)
        body = await self._body(request)
        event_id, rows = await self.messaging.publish(
            client_id,
            topic,
            body,
            request.headers.get("Content-Type"),
            request.headers.get("Idempotency-Key"),
        )
        return json(
            {
                "event_id": event_id,
                "topic": str(topic),
                "deliveries": [
                    {
                        "id": r.message_id,
                        "subscriber": r.service.rsplit("/", 1)[0],
                        "status": r.status,
                    }
                    for r in rows
                ],
            },
            status=202,
        )
