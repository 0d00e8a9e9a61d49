"""The demo's single service window and the small identity provider in front of it: where they
listen, setting them up (once; kept on later runs), the people the provider knows (every person
and foreign national of the civil and foreign nationals registries' seed, with a synthetic
mobile number and e-mail address), the demo's persons and official, and the window's agencies,
first admins, roles and service definitions.

The provider's one-time codes go to the console SMS adapter: they appear, one line each, in the
provider's log (``logs/identity-provider.log``: ``SMS to +98…: …``)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from zistboom.demo.documents import run_command
from zistboom.demo.federation import (
    ORGANISATIONS,
    PERSON,
    Organisation,
    Ports,
    director,
    member_id,
    organisation,
    subsystem_id,
)
from zistboom.demo.supervisor import Component
from zistboom.registries.seed import national_registries

IDP_NAME: Final = "identity provider"
WINDOW_NAME: Final = "window"
WINDOW_ORGANISATION: Final = "single-window"
CLIENT_ID: Final = "window"
# The official: person 3 of the seed (an adult of family 0), appointed the first admin of two
# agencies by the window operator; as their admin they grant the agencies' other roles.
OFFICIAL_INDEX: Final = 3
OFFICIAL_AGENCIES: Final = ("tax", "civil-registration")
REQUEST_REFERENCE: Final = "demo: the agency's letter asking for its first admin"


@dataclass(frozen=True, slots=True)
class Places:
    """Where the window and the provider listen: the single-window operator's seventh and
    eighth ports of the demo's plan."""

    ports: Ports

    @property
    def index(self) -> int:
        return ORGANISATIONS.index(organisation(WINDOW_ORGANISATION))

    @property
    def window_port(self) -> int:
        return self.ports.component(self.index, 6)

    @property
    def idp_port(self) -> int:
        return self.ports.component(self.index, 7)

    @property
    def window_url(self) -> str:
        return f"http://127.0.0.1:{self.window_port}"

    @property
    def idp_url(self) -> str:
        return f"http://127.0.0.1:{self.idp_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.client(self.index)}"


def idp_dir(data_dir: Path) -> Path:
    return data_dir / "identity-provider"


def window_dir(data_dir: Path) -> Path:
    return data_dir / "window"


def idp_component(zistboom: str, data_dir: Path, places: Places) -> Component:
    return Component(
        name=IDP_NAME,
        argv=(zistboom, "idp", "serve", "--data-dir", str(idp_dir(data_dir))),
        listens=(("http", places.idp_port),),
        health_url=f"{places.idp_url}/health",
    )


def window_component(zistboom: str, data_dir: Path, places: Places) -> Component:
    return Component(
        name=WINDOW_NAME,
        argv=(zistboom, "window", "serve", "--data-dir", str(window_dir(data_dir))),
        listens=(("http", places.window_port),),
        health_url=f"{places.window_url}/health",
    )


# --- the people ---------------------------------------------------------------------------


def phone_of(identifier: str) -> str:
    """A synthetic mobile number for a person of the seed (derived, so stable across runs)."""
    digits = str(int(hashlib.sha256(identifier.encode()).hexdigest(), 16))[-8:]
    return "+98912" + digits[1:]


def email_of(identifier: str) -> str:
    return f"p{identifier}@example.org"


def _user(subject: str, record: dict[str, Any]) -> dict[str, Any]:
    identifier = subject[2:]
    return {
        "subject": subject,
        "given_name_fa": record["given_name_fa"],
        "family_name_fa": record["family_name_fa"],
        "given_name_en": record["given_name_en"],
        "family_name_en": record["family_name_en"],
        "birthdate": record.get("birth_date"),
        "phone_number": phone_of(identifier),
        "email": email_of(identifier),
        "locale": "fa",
    }


@dataclass(frozen=True, slots=True)
class DemoPerson:
    role: str
    """What the demo shows with them: director, parent, foreign-national, official."""
    subject: str
    name_fa: str
    name_en: str
    detail: str

    @property
    def identifier(self) -> str:
        return self.subject[2:]

    @property
    def phone(self) -> str:
        return phone_of(self.identifier)


def people() -> tuple[list[dict[str, Any]], list[DemoPerson]]:
    """The provider's users (from the seed) and the demo's four persons among them."""
    registries = {r.code: r for r in national_registries(size="small")}
    users: list[dict[str, Any]] = []
    persons: dict[str, dict[str, Any]] = {}
    for index, record in enumerate(registries["persons"].records()):
        if not record.get("alive", True):
            continue
        users.append(_user("IR" + record["national_code"], record))
        if index == OFFICIAL_INDEX or record["national_code"] == PERSON:
            persons[record["national_code"]] = record
    foreigner = next(iter(registries["foreign-nationals"].records()))
    users.append(_user("FN" + foreigner["foreign_national_id"], foreigner))
    company_code = organisation("finance-ecosystem").member.code
    company = next(c for c in registries["companies"].records() if c["national_id"] == company_code)
    director_code = director()
    director_record = next(
        r for r in registries["persons"].records() if r["national_code"] == director_code
    )
    official = next(code for code in persons if code != PERSON)

    def shown(role: str, subject: str, record: dict[str, Any], detail: str) -> DemoPerson:
        return DemoPerson(
            role, subject, f"{record['given_name_fa']} {record['family_name_fa']}",
            f"{record['given_name_en']} {record['family_name_en']}", detail,
        )  # fmt: skip

    demo = [
        shown("director", "IR" + director_code, director_record,
              f"director of {company['name_en']} ({company_code})"),
        shown("parent", "IR" + PERSON, persons[PERSON], "parent of two children in the seed"),
        shown("foreign-national", "FN" + foreigner["foreign_national_id"], foreigner,
              f"foreign national ({foreigner['nationality']}), permit {foreigner['permit_type']}"),
        shown("official", "IR" + official, persons[official],
              "official: agency-admin of " + " and of ".join(
                  organisation(key).member.name_en for key in OFFICIAL_AGENCIES
              )),
    ]  # fmt: skip
    return users, demo


# --- setting them up ------------------------------------------------------------------------


def _secret_file(data_dir: Path) -> Path:
    return window_dir(data_dir) / "oidc-client.secret"


async def init_idp(zistboom: str, data_dir: Path, places: Places) -> None:
    """``zistboom idp init``, the window's client and the seed's people (once)."""
    folder = idp_dir(data_dir)
    if (folder / "idp.toml").exists():
        return
    await run_command(
        zistboom, "idp", "init", "--data-dir", str(folder), "--port", str(places.idp_port),
        "--issuer", places.idp_url,
    )  # fmt: skip
    window_dir(data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    await run_command(
        zistboom, "idp", "client", "add", "--data-dir", str(folder), "--client-id", CLIENT_ID,
        "--name", "پنجره واحد خدمات", "--redirect-uri", f"{places.window_url}/signin/callback",
        "--post-logout-redirect-uri", f"{places.window_url}/signed-out",
        "--secret-file", str(_secret_file(data_dir)),
    )  # fmt: skip
    users, _ = people()
    users_file = folder / "users.json"
    descriptor = os.open(users_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(users, handle, ensure_ascii=False)
    await run_command(
        zistboom, "idp", "user", "import", "--data-dir", str(folder), "--file", str(users_file)
    )


async def init_window(
    zistboom: str, data_dir: Path, places: Places, central_url: str, lockers_service: str
) -> None:
    """``zistboom window init`` and the catalogue's seed (once); the window reads names through
    the single-window operator's gateway from the civil and foreign nationals registries, and
    the persons' lockers from the documents hub's ``lockers_service``."""
    folder = window_dir(data_dir)
    if (folder / "window.toml").exists():
        return
    civil = organisation("civil-registration")
    foreign = organisation("foreign-nationals-bureau")
    await run_command(
        zistboom, "window", "init", "--data-dir", str(folder),
        "--subsystem", subsystem_id(organisation(WINDOW_ORGANISATION)),
        "--gateway-url", places.gateway_url, "--central-url", central_url,
        "--oidc-issuer", places.idp_url, "--oidc-client-id", CLIENT_ID,
        "--oidc-client-secret-file", str(_secret_file(data_dir)),
        "--persons-registry", f"{subsystem_id(civil)}/persons",
        "--foreign-nationals-registry", f"{subsystem_id(foreign)}/foreign-nationals",
        "--hub-lockers-service", lockers_service,
        "--port", str(places.window_port), "--public-url", places.window_url,
    )  # fmt: skip
    # The catalogue's seed: the agencies' service definitions (ZB-STD-010).
    await run_command(zistboom, "window", "services", "seed", "--data-dir", str(folder))


def agencies() -> list[Organisation]:
    """The window's agencies: every organisation of the demo but the window's own operator."""
    return [org for org in ORGANISATIONS if org.key != WINDOW_ORGANISATION]


async def seed_window(places: Places, data_dir: Path, official: DemoPerson) -> None:
    """The agencies registered and the official appointed the first admin of two (kept when
    already done)."""
    token = (window_dir(data_dir) / "admin-token").read_text().strip()
    async with httpx.AsyncClient(
        base_url=places.window_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as operator:
        known = {a["member_id"] for a in (await operator.get("/api/v1/agencies")).json()}
        for org in agencies():
            if member_id(org) not in known:
                answer = await operator.post(
                    "/api/v1/agencies",
                    json={"member_id": member_id(org), "name_fa": org.member.name_fa,
                          "name_en": org.member.name_en},
                )  # fmt: skip
                answer.raise_for_status()
        for key in OFFICIAL_AGENCIES:
            agency = member_id(organisation(key))
            held = (await operator.get(f"/api/v1/agencies/{agency}/roles")).json()
            if not held:
                answer = await operator.post(
                    f"/api/v1/agencies/{agency}/first-admin",
                    json={"subject": official.subject, "request_reference": REQUEST_REFERENCE},
                )
                answer.raise_for_status()
