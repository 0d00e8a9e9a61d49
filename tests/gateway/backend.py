"""A provider backend for the exchange tests, run as its own process: `python backend.py PORT`.

Routes: GET /persons/{code} (a 1 KiB JSON answer echoing what the exchange passed), POST /echo,
POST /sink (the body's length),
GET /slow?seconds=N, GET /redirect (302, never to be followed), GET /fail (500), and
GET /headers (the request headers it received), GET /hits?path=P (how often P was called)."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web


async def person(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "national_code": request.match_info["code"],
            "query": request.rel_url.raw_query_string,
            "x_road_client": request.headers.get("X-Road-Client"),
            "x_road_id": request.headers.get("X-Road-Id"),
            "padding": "x" * 800,
        },
        headers={"X-Backend": "persons"},
    )


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body, content_type=request.content_type)


async def sink(request: web.Request) -> web.Response:
    return web.json_response({"received": len(await request.read())})


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("seconds", "5")))
    return web.json_response({"slow": True})


async def redirect(_request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "https://example.invalid/elsewhere"})


async def fail(_request: web.Request) -> web.Response:
    return web.json_response({"error": "backend says no"}, status=500)


async def headers(request: web.Request) -> web.Response:
    return web.json_response({k.lower(): v for k, v in request.headers.items()})


HITS: dict[str, int] = {}


@web.middleware
async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
    if request.path != "/hits":
        HITS[request.path] = HITS.get(request.path, 0) + 1
    return await handler(request)


async def hits(request: web.Request) -> web.Response:
    return web.json_response(
        {"path": request.query["path"], "hits": HITS.get(request.query["path"], 0)}
    )


def make_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[count])
    app.router.add_get("/hits", hits)
    app.router.add_get("/persons/{code}", person)
    app.router.add_post("/echo", echo)
    app.router.add_post("/sink", sink)
    app.router.add_get("/slow", slow)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/fail", fail)
    app.router.add_get("/headers", headers)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
