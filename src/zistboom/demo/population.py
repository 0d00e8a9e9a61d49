"""An example base registry for the demo: the civil registration organisation's persons, served
as a provider backend behind its gateway (``zistboom demo population-backend``, a process of its
own). Every person is synthetic: generated from the national code itself, so the same code
always gives the same person."""

from __future__ import annotations

import hashlib
import logging
import random
from datetime import date, timedelta

import orjson
from aiohttp import web

from zistboom.core.errors import ValidationError
from zistboom.core.iran import validate_national_code
from zistboom.core.persian import to_jalali_iso

log = logging.getLogger("zistboom.demo.population")

GIVEN_NAMES = (
    ("زهرا", "Zahra"),
    ("علی", "Ali"),
    ("فاطمه", "Fatemeh"),
    ("محمد", "Mohammad"),
    ("مریم", "Maryam"),
    ("حسین", "Hossein"),
    ("سارا", "Sara"),
    ("رضا", "Reza"),
)
FAMILY_NAMES = (
    ("احمدی", "Ahmadi"),
    ("حسینی", "Hosseini"),
    ("کریمی", "Karimi"),
    ("رضایی", "Rezaei"),
    ("موسوی", "Mousavi"),
    ("جعفری", "Jafari"),
)
CITIES = (("تهران", "Tehran"), ("تبریز", "Tabriz"), ("شیراز", "Shiraz"), ("مشهد", "Mashhad"))

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Population registry (demo)", "version": "1.0.0"},
    "paths": {
        "/persons/{nationalCode}": {
            "get": {
                "operationId": "getPerson",
                "summary": "A person's civil registration record",
                "parameters": [
                    {
                        "name": "nationalCode",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9]{10}$"},
                    }
                ],
                "responses": {"200": {"description": "the person"}, "404": {"description": "-"}},
            }
        }
    },
}


def person(national_code: str) -> dict[str, object]:
    seed = int.from_bytes(hashlib.sha256(national_code.encode()).digest()[:8], "big")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    given, family, city = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES), rng.choice(CITIES)
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    return {
        "national_code": national_code,
        "given_name": {"fa": given[0], "en": given[1]},
        "family_name": {"fa": family[0], "en": family[1]},
        "birth_date": born.isoformat(),
        "birth_date_jalali": to_jalali_iso(born),
        "birth_place": {"fa": city[0], "en": city[1]},
        "alive": True,
        "synthetic": True,
    }


async def get_person(request: web.Request) -> web.Response:
    try:
        code = validate_national_code(request.match_info["code"], field="nationalCode")
    except ValidationError as error:
        return web.json_response(
            {"type": "about:blank", "title": "Invalid national code", "status": 400,
             "detail": error.detail},
            status=400,
            content_type="application/problem+json",
        )  # fmt: skip
    return web.json_response(person(code), dumps=_json)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/persons/{code}", get_person)
    app.router.add_get("/health", health)
    return app


def serve(host: str, port: int) -> None:
    """Serve the registry until SIGINT or SIGTERM."""
    log.info("population registry (demo) on http://%s:%s", host, port)
    web.run_app(make_app(), host=host, port=port, access_log=None, print=None)
