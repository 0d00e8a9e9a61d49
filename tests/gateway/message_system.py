"""A receiving information system for the asynchronous messaging tests, run as its own process:
``python message_system.py PORT [RECORD_FILE]``. ``POST /push`` takes a pushed message
(answering 503 while it is "down"), ``GET /received`` lists what it took, in order, with the
headers the gateway sent; ``POST /down`` and ``POST /up`` switch it. With ``RECORD_FILE``
every message is also appended to that file (one JSON line, flushed) before the answer, so a
count survives the process being killed."""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import Any

from aiohttp import web

received: list[dict[str, Any]] = []
state = {"down": False}


async def push(request: web.Request) -> web.Response:
    if state["down"]:
        return web.Response(status=503, text="down for maintenance")
    body = await request.read()
    record = {
        "id": request.headers.get("X-Road-Id"),
        "kind": request.headers.get("Zb-Message-Kind"),
        "sender": request.headers.get("X-Road-Client"),
        "service": request.headers.get("X-Road-Service"),
        "in_reply_to": request.headers.get("Zb-In-Reply-To"),
        "answer_status": request.headers.get("Zb-Answer-Status"),
        "topic": request.headers.get("Zb-Topic"),
        "secret": request.headers.get("X-Zistboom-Gateway-Secret"),
        "content_type": request.headers.get("Content-Type"),
        "body_base64": base64.b64encode(body).decode(),
    }
    received.append(record)
    path = request.app["record_file"]
    if path:
        with open(path, "a", encoding="utf-8") as out:  # noqa: ASYNC230  (a test double)
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())
    return web.Response(status=204)


async def listing(_request: web.Request) -> web.Response:
    return web.json_response(received)


async def down(_request: web.Request) -> web.Response:
    state["down"] = True
    return web.Response(status=204)


async def up(_request: web.Request) -> web.Response:
    state["down"] = False
    return web.Response(status=204)


def main() -> None:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app["record_file"] = sys.argv[2] if len(sys.argv) > 2 else ""
    app.router.add_post("/push", push)
    app.router.add_get("/received", listing)
    app.router.add_post("/down", down)
    app.router.add_post("/up", up)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
