"""A documents hub in a small world of real parts, for the hub's tests.

- central: a real process (``tests/trust_list_central.py``: central's own app, whose trust list
  content the test decides), with its CA, its TSA and its signed global configuration;
- members registered at central: the hub's operator, two issuing agencies (their ``doc`` keys
  enrolled at central's CA with one-time tokens), the single window's operator, a company;
- the hub, set up with ``zistboom documents hub init`` (its own doc key enrolled the same way,
  the seeded types) and served by uvicorn on a free port, in a thread, over SQLite or
  PostgreSQL, with a clock the test can move;
- calls made as the hub's gateway makes them: from 127.0.0.1, with the backend secret and the
  ``X-Road-*`` headers.

Documents are signed with ``documents/vc.py`` by the issuer's key and timestamped by central's
TSA; status lists with ``documents/statuslist.py``.
"""

from __future__ import annotations

import asyncio
import base64
import random
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509 as cx509

from central_process import ZISTBOOM, CentralProcess
from support import free_port
from trust_list_central import (
    Content,
    accreditation,
    change,
    published,
    put_content,
    running_list_central,
    scheme,
    wait_for,
)
from zistboom.core.crypto import keys
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.iran import generate_legal_entity_id, generate_national_code
from zistboom.documents import profile, qr, statuslist, timestamps, vc
from zistboom.documents.hub.app import create_app
from zistboom.documents.hub.settings import HubSettings

rng = random.Random()
GATEWAY_SECRET = "X-Zistboom-Gateway-Secret"
LIST_ID = "list-1"


class MovableClock:
    """The hub's clock: real time plus an offset the test moves (never a sleep)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Issuer:
    member: str
    name: str
    key: keys.PrivateKey
    chain: list[cx509.Certificate]
    client: str
    """Its issuing subsystem, as its gateway names it."""


@dataclass
class Issued:
    credential: str
    timestamp_token: bytes
    credential_id: str
    holder: str

    def deposit_body(self, **extra: Any) -> dict[str, Any]:
        return {
            "credential": self.credential,
            "timestampToken": base64.b64encode(self.timestamp_token).decode(),
            **extra,
        }


@dataclass
class World:
    central: CentralProcess
    hub_url: str
    data_dir: Path
    secret: str
    admin_token: str
    clock: MovableClock
    hub_member: str
    issuer: Issuer
    other_issuer: Issuer
    window: str
    company: str
    """A company member: a business holder, and a share's recipient."""
    tsa_url: str
    settings: HubSettings
    server: HubServer
    status_index: list[int] = field(default_factory=lambda: [0])

    def restart_hub(self) -> None:
        """Stop the hub and serve it again from its data folder (and database)."""
        self.server.stop()
        self.server = serve_hub(self.settings, self.clock)

    # --- calls as the gateway makes them -------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        client: str,
        user_id: str | None = None,
        purpose: str | None = None,
        secret: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {GATEWAY_SECRET: self.secret if secret is None else secret}
        headers["X-Road-Client"] = client
        headers["X-Road-Id"] = str(uuid.uuid4())
        if user_id is not None:
            headers["X-Road-UserId"] = user_id
        if purpose is not None:
            headers["X-Road-Purpose"] = purpose
        headers.update(kwargs.pop("headers", {}))
        return httpx.request(method, f"{self.hub_url}{path}", headers=headers, timeout=30, **kwargs)

    def for_person(self, method: str, path: str, person: str, **kwargs: Any) -> httpx.Response:
        return self.call(method, "/exchange/lockers" + path, client=self.window, user_id=person,
                         purpose="the person's own request", **kwargs)  # fmt: skip

    # --- issuing, as an issuer does --------------------------------------------------------

    def new_index(self) -> int:
        self.status_index[0] += 1
        return self.status_index[0] * 7919 % statuslist.MIN_SIZE

    def issue(
        self,
        holder: str,
        *,
        type_code: str = "birth-certificate-extract",
        subject: dict[str, Any] | None = None,
        issuer: Issuer | None = None,
        valid_until: datetime | None = None,
        list_id: str = LIST_ID,
        iat: datetime | None = None,
    ) -> Issued:
        """A document signed now; ``iat`` is the time the issuer claims (now unless given)."""
        issuer = issuer or self.issuer
        now = datetime.now(UTC).replace(microsecond=0)
        credential_id = profile.new_credential_id()
        claims = vc.document_claims(
            credential_id=credential_id,
            issuer_member=issuer.member,
            issuer_name=issuer.name,
            holder=holder,
            type_code=type_code,
            subject=subject if subject is not None else person_subject(holder),
            valid_from=now,
            valid_until=valid_until or now + timedelta(days=3650),
            iat=iat or now,
            hub_url=self.hub_url,
            list_id=list_id,
            status_index=self.new_index(),
        )
        token = vc.sign_credential(claims, issuer.key, issuer.chain)
        signature = vc.parse_credential(token).signature
        tst = asyncio.run(self._timestamp(signature))
        return Issued(token, tst, credential_id, holder)

    async def _timestamp(self, signature: bytes, *, cert_req: bool = True) -> bytes:
        async with httpx.AsyncClient(timeout=30) as client:
            return await timestamps.request_timestamp(
                self.tsa_url, timestamps.imprint_of_signature(signature), cert_req=cert_req,
                client=client,
            )  # fmt: skip

    def qr_text(self, issued: Issued, *, issuer: Issuer | None = None) -> str:
        """The document's offline QR, signed by its issuer, with its own timestamp."""
        issuer = issuer or self.issuer
        record = qr.QrRecord.from_credential(vc.parse_credential(issued.credential))
        signed = qr.sign_qr(record, issuer.key, issuer.chain[0])
        token = asyncio.run(self._timestamp(signed.signature, cert_req=False))
        return signed.with_timestamp(token)

    def deposit(self, issued: Issued, *, issuer: Issuer | None = None) -> httpx.Response:
        issuer = issuer or self.issuer
        return self.call(
            "POST", "/exchange/documents/documents", client=issuer.client,
            json=issued.deposit_body(),
        )  # fmt: skip

    def status_list(
        self,
        *,
        purpose: profile.StatusPurpose = "revocation",
        set_indexes: tuple[int, ...] = (),
        valid_from: datetime | None = None,
        issuer: Issuer | None = None,
        list_id: str = LIST_ID,
    ) -> str:
        issuer = issuer or self.issuer
        bits = statuslist.StatusBits()
        for index in set_indexes:
            bits.set(index, True)
        claims = statuslist.status_list_credential(
            list_url=profile.status_list_url(self.hub_url, list_id, purpose),
            issuer=profile.issuer_urn(issuer.member),
            purpose=purpose,
            bits=bits,
            valid_from=valid_from or datetime.now(UTC).replace(microsecond=0),
        )
        return vc.sign_credential(claims, issuer.key, issuer.chain)

    def put_status_list(
        self, token: str, *, purpose: str = "revocation", client: str | None = None,
        list_id: str = LIST_ID,
    ) -> httpx.Response:  # fmt: skip
        return self.call(
            "PUT", f"/exchange/documents/status-lists/{list_id}/{purpose}",
            client=client or self.issuer.client, content=token.encode(),
            headers={"Content-Type": "application/vc+jwt"},
        )  # fmt: skip


def person_subject(holder: str) -> dict[str, Any]:
    return {
        "national_code": holder[2:] if holder.startswith("IR") else generate_national_code(rng),
        "given_name_fa": "زهرا",
        "given_name_en": "Zahra",
        "family_name_fa": "محمدی",
        "family_name_en": "Mohammadi",
        "sex": "F",
        "birth_date": "1996-09-11",
        "birth_province": "isfahan",
        "birth_city": "اصفهان",
    }


def company_subject(legal_id: str) -> dict[str, Any]:
    return {
        "national_id": legal_id,
        "name_fa": "شرکت آزمایشی",
        "name_en": "Test company",
        "legal_form": "private-joint-stock",
        "registration_status": "active",
        "registration_date": "2020-03-01",
    }


def new_person() -> str:
    return "IR" + generate_national_code(rng)


# --- setting the world up ---------------------------------------------------------------------


def _member(central: CentralProcess, name: str, member_class: str, subsystems: list[str]) -> str:
    code = generate_legal_entity_id(rng)
    kind = {"GOV": "agency", "COM": "company"}[member_class]
    with central.admin as client:
        created = client.post(
            "/api/v1/members",
            json={"member_class": member_class, "code": code, "name_fa": name, "name_en": name,
                  "kind": kind},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        for subsystem in subsystems:
            added = client.post(
                f"/api/v1/members/{member_class}/{code}/subsystems", json={"code": subsystem}
            )
            assert added.status_code == 201, added.text
    return str(created.json()["id"])


def doc_token(central: CentralProcess, member: str) -> str:
    with central.admin as client:
        answer = client.post("/api/v1/enrolment-tokens", json={"member_id": member, "kind": "doc"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def new_issuer(central: CentralProcess, name: str) -> Issuer:
    member = _member(central, name, "GOV", ["issuer"])
    key = keys.generate_private_key()
    cert, chain = asyncio.run(
        enrol_certificate(central.url, doc_token(central, member), key, kind="doc")
    )
    return Issuer(member, name, key, [cert, *chain], f"{member}/issuer")


def trust_content(accredited: list[str], *, since: datetime) -> Content:
    document_issuer = scheme("national", "document-issuer", since=since, actions=("issue",))
    return Content(
        schemes=[document_issuer],
        accreditations=[
            accreditation(
                number,
                document_issuer.code,
                member,
                level="high",
                changes=[change("granted", since)],
                valid_until=since + timedelta(days=365),
            )
            for number, member in enumerate(accredited, start=1)
        ],
    )


@dataclass
class HubServer:
    server: uvicorn.Server
    thread: threading.Thread
    failures: list[BaseException]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the hub did not stop within 30 s"


def serve_hub(settings: HubSettings, clock: MovableClock) -> HubServer:
    """The hub's app under uvicorn in a thread; returns once it answers /health."""
    config = uvicorn.Config(
        create_app(settings, clock=clock), host="127.0.0.1", port=settings.port,
        log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as error:  # shown by the wait below
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{settings.port}"

    def healthy() -> bool:
        if failures or not thread.is_alive():
            raise AssertionError(f"the hub stopped: {failures}")
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, seconds=60, what="the hub answers /health")
    return HubServer(server, thread, failures)


def hub_init(
    central: CentralProcess, data_dir: Path, member: str, window: str, port: int,
    database_url: str | None, *extra: str,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    anchor = data_dir.parent / "anchor.json"
    anchor.write_text(httpx.get(f"{central.url}/anchor", timeout=10).text)
    env = dict(central.env)
    env.pop("ZB_DATABASE_URL", None)
    if database_url:
        env["ZB_DATABASE_URL"] = database_url
    return subprocess.run(
        [ZISTBOOM, "documents", "hub", "init", "--data-dir", str(data_dir), "--member", member,
         "--central-url", central.url, "--anchor", str(anchor), "--window", window,
         "--token", doc_token(central, member), "--port", str(port), *extra],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def build_world(root: Path, database_url: str | None) -> Iterator[World]:
    for central in running_list_central(root / "central", None):
        since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        hub_member = _member(central, "Documents authority", "GOV", ["documents"])
        issuer = new_issuer(central, "Civil registration")
        other = new_issuer(central, "Companies registration")
        window_member = _member(central, "Single window operator", "COM", ["window"])
        company = _member(central, "A company", "COM", ["erp"])
        answer = put_content(central, trust_content([issuer.member, other.member], since=since))
        assert answer.status_code == 204, answer.text
        wait_for(
            lambda: published(central).trust_list.accreditations, seconds=30,
            what="central publishes the trust list",
        )  # fmt: skip
        data_dir = root / "hub"
        port = free_port()
        window = f"{window_member}/window"
        result = hub_init(central, data_dir, hub_member, window, port, database_url)
        assert result.returncode == 0, result.stdout + result.stderr
        settings = HubSettings.load(data_dir, database_url=database_url, refresh_seconds=3600)
        clock = MovableClock()
        world = None
        try:
            world = World(
                central=central,
                hub_url=settings.base_url,
                data_dir=data_dir,
                secret=(data_dir / "gateway-secret").read_text().strip(),
                admin_token=(data_dir / "admin-token").read_text().strip(),
                clock=clock,
                hub_member=hub_member,
                issuer=issuer,
                other_issuer=other,
                window=window,
                company=company,
                tsa_url=published(central).conf.central.tsa_url,
                settings=settings,
                server=serve_hub(settings, clock),
            )
            yield world
        finally:
            if world is not None:
                world.server.stop()
