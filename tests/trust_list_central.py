"""A real central process whose trust list content a test decides.

Central is started as ``zistboom central serve`` starts it (the same app factory, settings from
the same environment, uvicorn, its own process and database), with one difference: its trust
list builder serves the content a test PUTs to ``/api/v1/accreditation/_test/content``, so that
the publication (signing, sequence numbers, the pointer in the global configuration, ETags, the
re-issue after a change under ``/api/v1/accreditation``), the trust-registry queries and the
catalogue rule are tested with lists made from core models, apart from the domain's tables and
rules. Run as a script, this module is that process: ``python trust_list_central.py DATA_DIR PORT``.

It also holds small makers of trust-list entries, and a condition wait with a deadline.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field

TESTS = Path(__file__).parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from central_process import (  # noqa: E402
    FIRST_ADMIN_KEY,
    CentralProcess,
    Output,
    central_env,
    stop_central,
    wait_until_serving,
)
from support import free_port  # noqa: E402
from zistboom.core import globalconf as gc  # noqa: E402
from zistboom.core.crypto import keys  # noqa: E402
from zistboom.core.trustlist import (  # noqa: E402
    FORMAT,
    AccreditationEntry,
    AssessorEntry,
    RecognitionEntry,
    SchemeEntry,
    StatusChange,
    TrustList,
    sign_statement,
    verify_trust_list,
)

CONTENT_PATH = "/api/v1/accreditation/_test/content"
T = TypeVar("T")


class Content(BaseModel):
    """What the list holds besides its format, instance, sequence and times."""

    model_config = ConfigDict(extra="forbid")

    schemes: list[SchemeEntry] = Field(default_factory=list)
    accreditations: list[AccreditationEntry] = Field(default_factory=list)
    recognitions: list[RecognitionEntry] = Field(default_factory=list)
    assessors: list[AssessorEntry] = Field(default_factory=list)

    def trust_list(
        self, *, instance: str, issued_at: datetime, next_update: datetime, sequence: int
    ) -> TrustList:
        return TrustList(
            format=FORMAT,
            instance=instance,
            sequence=sequence,
            issued_at=issued_at,
            next_update=next_update,
            schemes=self.schemes,
            accreditations=self.accreditations,
            recognitions=self.recognitions,
            assessors=self.assessors,
        )


# --- the process ------------------------------------------------------------------------------


def _serve(data_dir: Path, port: int) -> None:
    import uvicorn
    from fastapi import APIRouter
    from sqlalchemy.ext.asyncio import AsyncSession

    from zistboom.central.app import create_app
    from zistboom.central.settings import CentralSettings
    from zistboom.core.errors import ValidationError

    held = [Content()]

    async def builder(
        session: AsyncSession,
        *,
        instance: str,
        issued_at: datetime,
        next_update: datetime,
        sequence: int,
    ) -> TrustList:
        return held[0].trust_list(
            instance=instance, issued_at=issued_at, next_update=next_update, sequence=sequence
        )

    settings = CentralSettings(data_dir=data_dir, port=port)
    app = create_app(settings, trust_list_builder=builder)
    router = APIRouter()

    @router.put(CONTENT_PATH, status_code=204)
    async def replace_content(content: Content) -> None:
        now = datetime.now(UTC)
        try:
            content.trust_list(
                instance=settings.instance,
                issued_at=now,
                next_update=now + timedelta(1),
                sequence=1,
            )
        except ValueError as error:  # pydantic's, for an inconsistent list
            raise ValidationError(str(error), field="content") from None
        held[0] = content

    app.include_router(router)
    uvicorn.run(app, host=settings.host, port=port, log_level="warning")


def start_list_central(
    data_dir: Path,
    database_url: str | None,
    extra_env: dict[str, str] | None = None,
    *,
    first_start: bool = True,
) -> CentralProcess:
    """Central serving the content tests PUT: on a fresh data folder (and database), whose
    first admin key it prints, or (``first_start=False``) on one it has run on before."""
    port = free_port()
    env = central_env(database_url, extra_env)
    process = subprocess.Popen(
        [sys.executable, __file__, str(data_dir), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
        output.complete.set()

    threading.Thread(target=drain, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, output, url, printed=FIRST_ADMIN_KEY if first_start else None)
    except BaseException:
        stop_central(process)
        raise
    key_line = next((line for line in output if FIRST_ADMIN_KEY in line), "")
    return CentralProcess(url, data_dir, env, process, key_line.rsplit(" ", 1)[-1].strip(), output)


def running_list_central(
    data_dir: Path, database_url: str | None, extra_env: dict[str, str] | None = None
) -> Iterator[CentralProcess]:
    """For a fixture: the process, stopped afterwards."""
    central = start_list_central(data_dir, database_url, extra_env)
    try:
        yield central
    finally:
        stop_central(central.process)


def put_content(central: CentralProcess, content: Content) -> httpx.Response:
    """Change the list's content; central re-issues the list and the configuration."""
    return httpx.put(
        central.url + CONTENT_PATH,
        content=content.model_dump_json(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def trust_list_key(central: CentralProcess) -> keys.PrivateKey:
    return keys.load_private_key(central.data_dir / "keys" / "trust-list.key")


# --- reading what central publishes -----------------------------------------------------------


@dataclass(frozen=True)
class Published:
    conf: gc.GlobalConf
    pointer: gc.TrustListPointer
    token: str
    trust_list: TrustList


def published(central: CentralProcess) -> Published:
    """The global configuration (verified against central's anchor), the trust list it names
    (verified against the key, digest and instance it names), as a gateway would take them."""
    anchor = gc.Anchor.from_json(httpx.get(f"{central.url}/anchor", timeout=10).text)
    conf = gc.verify_global_conf(
        httpx.get(anchor.url, timeout=10).text, anchor, now=datetime.now(UTC)
    )
    assert conf.trust_list is not None, "the global configuration names no trust list"
    pointer = conf.trust_list
    response = httpx.get(pointer.url, timeout=30)
    assert response.status_code == 200, response.text
    token = response.text
    trust_list = verify_trust_list(
        token,
        key_fingerprint=pointer.key_fingerprint,
        instance=conf.instance,
        now=datetime.now(UTC),
        digest=pointer.digest,
    )
    return Published(conf, pointer, token, trust_list)


def served_sequence(central: CentralProcess) -> int:
    token = httpx.get(f"{central.url}/trust-list", timeout=30).text
    return int(orjson.loads(keys.b64url_decode(token.split(".")[1]))["sequence"])


def wait_for(condition: Callable[[], T | None], *, seconds: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


# --- entries ----------------------------------------------------------------------------------


def change(status: str, at: datetime, reason: str = "") -> StatusChange:
    return StatusChange(status=status, at=at, reason=reason)  # type: ignore[arg-type]


def scheme(
    ecosystem: str,
    kind: str,
    *,
    since: datetime,
    actions: Iterable[str] = ("provide",),
    name_fa: str = "طرح اعتباربخشی",
    name_en: str = "Accreditation scheme",
) -> SchemeEntry:
    return SchemeEntry(
        code=f"{ecosystem}-{kind}",
        ecosystem=ecosystem,
        kind=kind,
        actions=list(actions),  # type: ignore[arg-type]
        levels=["basic", "substantial", "high"],
        name_fa=name_fa,
        name_en=name_en,
        history=[change("active", since)],
    )


def accreditation(
    number: int,
    scheme_code: str,
    subject: str,
    *,
    changes: list[StatusChange],
    valid_until: datetime,
    level: str = "substantial",
) -> AccreditationEntry:
    parts = subject.split("/")
    scope = {3: "member", 4: "subsystem", 5: "service"}[len(parts)]
    return AccreditationEntry(
        id=f"acc-{number}",
        scheme=scheme_code,
        member="/".join(parts[:3]),
        scope=scope,  # type: ignore[arg-type]
        subject=subject,
        level=level,  # type: ignore[arg-type]
        valid_from=changes[0].at,
        valid_until=valid_until,
        history=changes,
    )


def recognition(
    number: int,
    ecosystem: str,
    scheme_code: str,
    kinds: list[str],
    *,
    key: keys.PrivateKey,
    changes: list[StatusChange],
    valid_until: datetime,
    level_mapping: dict[str, str] | None = None,
    version: int = 1,
) -> RecognitionEntry:
    mapping = level_mapping or {"basic": "basic", "substantial": "basic", "high": "substantial"}
    terms: dict[str, Any] = {
        "id": f"rec-{number}",
        "version": version,
        "ecosystem": ecosystem,
        "scheme": scheme_code,
        "kinds": kinds,
        "level_mapping": mapping,
        "valid_from": changes[0].at.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    return RecognitionEntry(
        id=f"rec-{number}",
        version=version,
        ecosystem=ecosystem,
        scheme=scheme_code,
        kinds=kinds,
        level_mapping=mapping,  # type: ignore[arg-type]
        valid_from=changes[0].at,
        valid_until=valid_until,
        history=changes,
        statement=sign_statement(orjson.dumps(terms), key, typ="zb-recognition+jws"),
    )


def assessor(
    number: int, member: str, scheme_code: str, *, changes: list[StatusChange], depth: int = 0
) -> AssessorEntry:
    return AssessorEntry(
        id=f"asr-{number}",
        member=member,
        scheme=scheme_code,
        depth=depth,
        delegated_from=None,
        history=changes,
    )


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), int(sys.argv[2]))
