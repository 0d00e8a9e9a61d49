"""The verifier's cache for offline verification (``zistboom documents cache refresh`` fills
it, ``zistboom documents verify --offline`` reads it): the global configuration (the instance
CA, the TSA certificates, revocation times) verified against the anchor, the trust list it
names (its histories answer for any past time), the hub's document types, and the issuers'
status lists, each with when it was last refreshed, so a report can say how old what it used
is. What is cached is kept as it was signed and checked again when used: the configuration
against the anchor, the lists by the verification itself.

Folder layout: ``anchor.json``, ``hub-url``, ``global-conf/`` and ``trust-list/`` (the clients'
own caches), ``document-types.json``, ``status-lists/<sha256 of the URL>.json`` (URL, signed
list, fetch time), ``refreshed.json`` (source name → time)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from zistboom.core import globalconf as gc
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto import keys, x509
from zistboom.core.errors import (
    ConfigurationError,
    DocumentError,
    GlobalConfError,
    TrustListError,
    ValidationError,
)
from zistboom.core.trustlist import TrustListClient
from zistboom.documents import profile, qr, statuslist, vc
from zistboom.documents.types import DocumentTypeDefinition
from zistboom.documents.verification import (
    CREDENTIAL_ATTACHMENT,
    CachedContext,
    DocumentTypeView,
    SourceFreshness,
    StatusListView,
    read_form,
)

ANCHOR_FILE = "anchor.json"
HUB_FILE = "hub-url"
TYPES_FILE = "document-types.json"
LISTS_DIR = "status-lists"
REFRESHED_FILE = "refreshed.json"
GLOBAL_CONF = "global configuration"
TRUST_LIST = "trust list"
DOCUMENT_TYPES = "document types"
_TYPES = TypeAdapter(list[DocumentTypeDefinition])


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one refresh brought, and what it could not (each failure says why)."""

    conf_version: int
    trust_list_sequence: int | None
    document_types: int
    status_lists: list[str]
    failures: list[str] = field(default_factory=list)


def _write(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically: a crash leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def status_urls_of(content: str | bytes, hub_url: str) -> list[str]:
    """The status lists a document (any form but a pull link) names."""
    presented = read_form(content)
    if presented.source == "qr":
        record = qr.decode_qr(presented.data.decode("ascii")).record
        return [
            profile.status_list_url(hub_url, record.status_list_id, purpose)
            for purpose in profile.STATUS_PURPOSES
        ]
    if presented.source == "image":
        texts = [t for t in qr.read_qr_image(presented.data) if t.startswith(profile.QR_PREFIX)]
        return status_urls_of(texts[0], hub_url) if texts else []
    data = presented.data
    if presented.source == "pdf":
        from zistboom.documents import pdf  # brings WeasyPrint and pyHanko: only for a PDF

        data = pdf.pdf_attachments(data).get(CREDENTIAL_ATTACHMENT, b"")
    document = vc.parse_credential(data.decode("ascii")).document
    return [entry.statusListCredential for entry in document.credentialStatus]


class VerifierCache:
    """One cache folder."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime] = gc.utc_now) -> None:
        self.directory = directory
        self._clock = clock

    # -- reading ----------------------------------------------------------------------------

    def anchor(self) -> gc.Anchor:
        path = self.directory / ANCHOR_FILE
        try:
            return gc.Anchor.from_json(path.read_bytes())
        except FileNotFoundError:
            raise ConfigurationError(
                f"{self.directory} is no verifier cache yet: run `zistboom documents cache "
                "refresh --anchor FILE --hub URL` first"
            ) from None

    def hub_url(self) -> str:
        try:
            return (self.directory / HUB_FILE).read_text().strip()
        except FileNotFoundError:
            raise ConfigurationError(
                f"{self.directory} names no hub: refresh it with --hub"
            ) from None

    def _refreshed(self) -> dict[str, str]:
        path = self.directory / REFRESHED_FILE
        if not path.exists():
            return {}
        loaded: dict[str, str] = orjson.loads(path.read_bytes())
        return loaded

    def global_conf(self) -> gc.GlobalConf:
        """The cached configuration, its signature checked against the anchor; an expired
        one is used all the same (offline, it is what there is; the report says its age)."""
        anchor = self.anchor()
        path = self.directory / "global-conf" / gc.CACHE_FILE
        try:
            token = path.read_text("ascii").strip()
        except FileNotFoundError:
            raise ConfigurationError(f"{self.directory} holds no global configuration") from None
        try:
            generated = orjson.loads(keys.b64url_decode(token.split(".")[1]))["generated_at"]
            moment = datetime.fromisoformat(str(generated))
            return gc.verify_global_conf(token, anchor, now=moment)
        except (GlobalConfError, ValidationError, ValueError, KeyError, IndexError) as error:
            detail = error.detail if isinstance(error, GlobalConfError) else str(error)
            raise GlobalConfError(f"the cached global configuration is refused: {detail}") from None

    def trust_index(self, conf: gc.GlobalConf) -> TrustIndex | None:
        if conf.trust_list is None:
            return None
        client = TrustListClient(conf.instance, self.directory / "trust-list", clock=self._clock)
        held = client.load_cached(conf.trust_list.key_fingerprint)
        return TrustIndex(held) if held is not None else None

    def document_types(self) -> list[DocumentTypeDefinition]:
        path = self.directory / TYPES_FILE
        if not path.exists():
            return []
        return _TYPES.validate_json(path.read_bytes())

    def status_lists(self) -> dict[str, StatusListView]:
        views: dict[str, StatusListView] = {}
        for path in sorted((self.directory / LISTS_DIR).glob("*.json")):
            entry = orjson.loads(path.read_bytes())
            try:
                parsed = statuslist.parse_status_list(entry["credential"])
            except DocumentError:
                continue  # the verification says the list is not available
            views[entry["url"]] = StatusListView(
                parsed, datetime.fromisoformat(entry["fetched_at"])
            )
        return views

    def context(self) -> CachedContext:
        """A verification context over the cache, and nothing else."""
        conf = self.global_conf()
        refreshed = self._refreshed()
        views = self.status_lists()
        sources = [
            SourceFreshness(name, datetime.fromisoformat(at))
            for name, at in refreshed.items()
            if name in (GLOBAL_CONF, TRUST_LIST, DOCUMENT_TYPES)
        ]
        return CachedContext(
            ca_certificates=[x509.load_certificate(p) for p in conf.ca_certificates],
            tsa_certificates=[x509.load_certificate(p) for p in conf.tsa_certificates],
            hub_url=self.hub_url(),
            trust=self.trust_index(conf),
            types={
                t.code: DocumentTypeView(
                    t.code,
                    t.json_schema,
                    Requirement(
                        t.requirement.ecosystem,
                        t.requirement.kind,
                        t.requirement.level,
                        action="issue",
                    ),
                )
                for t in self.document_types()
            },
            status_lists=views,
            revocations={
                int(entry.serial, 16): entry.revoked_at for entry in conf.revoked_certificates
            },
            clock=self._clock,
            refreshed=sources,
        )

    # -- refreshing -------------------------------------------------------------------------

    async def refresh(
        self,
        *,
        http: httpx.AsyncClient,
        anchor: gc.Anchor | None = None,
        hub_url: str | None = None,
        documents: Sequence[str | bytes] = (),
        status_lists: Sequence[str] = (),
    ) -> Refreshed:
        """Fetch everything again: the configuration and trust list from central, the types
        from the hub, every status list held and those ``documents`` and ``status_lists``
        name. A status list that cannot be fetched keeps its older copy (a failure says so)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if anchor is not None:
            _write(self.directory / ANCHOR_FILE, anchor.to_json().encode())
        if hub_url is not None:
            _write(self.directory / HUB_FILE, hub_url.rstrip("/").encode() + b"\n")
        hub = self.hub_url()
        refreshed = self._refreshed()
        failures: list[str] = []

        conf_client = gc.GlobalConfClient(
            self.anchor(), self.directory / "global-conf", http=http, clock=self._clock
        )
        conf_client.load_cached()
        conf = await conf_client.refresh()  # GlobalConfRefused: nothing else is worth it
        refreshed[GLOBAL_CONF] = _instant(self._clock())

        trust = TrustListClient(
            conf.instance, self.directory / "trust-list", http=http, clock=self._clock
        )
        sequence = None
        try:
            if conf.trust_list is not None:
                trust.load_cached(conf.trust_list.key_fingerprint)
            held = await trust.follow(conf.trust_list)
            if trust.last_error is not None:
                failures.append(f"trust list: {trust.last_error.detail}")
            elif held is not None:
                refreshed[TRUST_LIST] = _instant(self._clock())
            sequence = held.sequence if held is not None else None
        except TrustListError as error:
            failures.append(f"trust list: {error.detail}")

        types = 0
        try:
            answer = await http.get(f"{hub}/api/v1/document-types")
            answer.raise_for_status()
            definitions = _TYPES.validate_json(answer.content)
            _write(self.directory / TYPES_FILE, answer.content)
            refreshed[DOCUMENT_TYPES] = _instant(self._clock())
            types = len(definitions)
        except (httpx.HTTPError, PydanticValidationError) as error:
            failures.append(f"document types from {hub}: {type(error).__name__}: {error}")

        wanted = set(status_lists) | set(self.status_lists())
        for document in documents:
            try:
                wanted.update(status_urls_of(document, hub))
            except (DocumentError, ValidationError, UnicodeDecodeError) as error:
                failures.append(f"a document given cannot be read: {error}")
        fetched = []
        for url in sorted(wanted):
            try:
                answer = await http.get(url, headers={"Accept": profile.VC_MEDIA_TYPE})
                answer.raise_for_status()
                statuslist.parse_status_list(answer.text.strip())
            except (httpx.HTTPError, DocumentError) as error:
                failures.append(f"status list {url}: {getattr(error, 'detail', error)}")
                continue
            entry: dict[str, Any] = {
                "url": url,
                "credential": answer.text.strip(),
                "fetched_at": _instant(self._clock()),
            }
            name = hashlib.sha256(url.encode()).hexdigest() + ".json"
            _write(self.directory / LISTS_DIR / name, orjson.dumps(entry))
            fetched.append(url)
        _write(
            self.directory / REFRESHED_FILE, orjson.dumps(refreshed, option=orjson.OPT_SORT_KEYS)
        )
        return Refreshed(conf.version, sequence, types, fetched, failures)
