"""``zistboom documents …``: the documents hub (``hub``), the issuer service (``issuer``),
issuing a document through the exchange as one of the agency's information systems
(``issue``), verifying one (``verify``) online at a hub or offline from a cache, and refreshing
that cache (``cache refresh``)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from zistboom.core import globalconf as gc
from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.core.identifiers import ServiceId, parse_client_header
from zistboom.documents import verification
from zistboom.documents.hub.cli import app as hub_app
from zistboom.documents.issuer.cli import app as issuer_app
from zistboom.documents.offline import Refreshed, VerifierCache

app = typer.Typer(
    help="Verifiable documents: issuers, the hub, verification.", no_args_is_help=True
)
app.add_typer(hub_app, name="hub")
app.add_typer(issuer_app, name="issuer")
console = Console()
err_console = Console(stderr=True)


def _fail(error: ZistboomError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {error.detail}")
    return typer.Exit(2)


def _refused(answer: httpx.Response) -> typer.Exit:
    """A problem (or the exchange's error) printed with each offending field."""
    try:
        body: Any = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or body.get("message") or answer.text or answer.reason_phrase
    kind = answer.headers.get("x-road-error") or body.get("type") or answer.status_code
    err_console.print(f"[red]refused[/red] (HTTP {answer.status_code}, {kind}): {detail}")
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            err_console.print(f"  {item.get('field')}: {item.get('message')}")
    return typer.Exit(2)


def _subject_of(path: Path) -> dict[str, Any]:
    try:
        subject = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _fail(ValidationError(f"cannot read {path} as JSON: {error}")) from error
    if not isinstance(subject, dict):
        raise _fail(ValidationError(f"{path} must hold a JSON object (the subject's fields)"))
    return subject


@app.command()
def issue(
    type_code: Annotated[str, typer.Option("--type", help="the document type's code")],
    gateway_url: Annotated[
        str,
        typer.Option(
            "--gateway-url", help="your gateway's client port, e.g. http://127.0.0.1:8080"
        ),
    ],
    client: Annotated[
        str, typer.Option(help="the subsystem you call as, INSTANCE/CLASS/CODE/SUBSYSTEM")
    ],
    issuer: Annotated[
        str, typer.Option(help="the issuer's service, INSTANCE/CLASS/CODE/SUBSYSTEM/credentials")
    ],
    out: Annotated[Path, typer.Option(help="the folder the document's forms are written to")],
    subject: Annotated[
        Path | None, typer.Option(help="a JSON file with the subject's fields")
    ] = None,
    subject_id: Annotated[
        str | None,
        typer.Option("--subject-id", help="pull the subject from the agency's registry by this id"),
    ] = None,
    holder: Annotated[
        str | None, typer.Option(help="the holder id (default: the subject id)")
    ] = None,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="RFC 3339; default: the type's validity")
    ] = None,
    user_id: Annotated[
        str | None, typer.Option("--user-id", help="the person you act for (X-Road-UserId)")
    ] = None,
    pdf: Annotated[bool, typer.Option(help="have the PDF rendered and signed too")] = True,
) -> None:
    """Ask the agency's issuer, through the exchange, to issue a document; write its forms
    (``<id>.jwt``, ``<id>.tst``, ``<id>.qr.txt``, ``<id>.pdf``) to ``--out``."""
    try:
        service = ServiceId.parse(issuer, field="issuer")
        parse_client_header(client, field="client")
    except ZistboomError as error:
        raise _fail(error) from error
    if (subject is None) == (subject_id is None):
        raise _fail(ValidationError("give --subject FILE or --subject-id ID (exactly one)"))
    credential: dict[str, Any] = {"documentType": type_code}
    options: dict[str, Any] = {"pdf": pdf}
    if subject is not None:
        credential["credentialSubject"] = _subject_of(subject)
    else:
        options["subjectId"] = subject_id
    if holder:
        options["holder"] = holder
    if valid_until:
        options["validUntil"] = valid_until
    headers = {"X-Road-Client": client}
    if user_id:
        headers["X-Road-UserId"] = user_id
    url = f"{gateway_url.rstrip('/')}/r1/{service.to_path()}/issue"
    try:
        answer = httpx.post(
            url,
            json={"credential": credential, "options": options},
            headers=headers,
            timeout=120,
            trust_env=False,
        )
    except httpx.HTTPError as error:
        raise _fail(
            ValidationError(f"the gateway at {gateway_url} did not answer: {error}")
        ) from error
    if answer.status_code != 201:
        raise _refused(answer)
    issued = answer.json()
    name = issued["id"].removeprefix("urn:uuid:")
    out.mkdir(parents=True, exist_ok=True)
    envelope = issued["verifiableCredential"]["id"]
    (out / f"{name}.jwt").write_text(envelope.split(",", 1)[1] + "\n")
    (out / f"{name}.tst").write_bytes(base64.b64decode(issued["timestampToken"]))
    (out / f"{name}.qr.txt").write_text(issued["qr"] + "\n")
    if issued.get("pdf"):
        (out / f"{name}.pdf").write_bytes(base64.b64decode(issued["pdf"]))
    console.print(f"issued [bold]{issued['id']}[/bold] into {out}")
    if issued.get("pullLink"):
        console.print(f"pull link: {issued['pullLink']}")


# --- verification ------------------------------------------------------------------------------

cache_app = typer.Typer(help="The verifier's cache, for offline verification.")
app.add_typer(cache_app, name="cache")
CacheDir = Annotated[Path, typer.Option("--cache", help="the verifier's cache folder")]


def _presented(document: str) -> tuple[bytes, str]:
    """The document's bytes and how it was given: a file (``FILE``) or the text itself."""
    path = Path(document)
    if len(document) < 4096 and path.is_file():
        return path.read_bytes(), str(path)
    return document.encode("utf-8"), "text"


def _sibling_timestamp(document: str, given: Path | None) -> bytes | None:
    """``--timestamp FILE``, or ``<name>.tst`` beside a ``<name>.jwt`` (as ``issue`` writes)."""
    if given is not None:
        return given.read_bytes()
    path = Path(document)
    if len(document) < 4096 and path.suffix == ".jwt" and path.with_suffix(".tst").is_file():
        return path.with_suffix(".tst").read_bytes()
    return None


def _online_body(data: bytes, token: bytes | None) -> dict[str, Any]:
    """The hub's ``POST /credentials/verify`` body for the form ``data`` is in."""
    if data.startswith(b"%PDF-"):
        return {"pdf": base64.b64encode(data).decode("ascii")}
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return {"image": base64.b64encode(data).decode("ascii")}
    text = data.decode("utf-8").strip()
    if text.startswith(("http://", "https://")):
        return {"pullLink": text}
    if text.startswith("ZB1:"):
        return {"qr": text}
    body: dict[str, Any] = {"verifiableCredential": text}
    if token is not None:
        body["timestampToken"] = base64.b64encode(token).decode("ascii")
    return body


def _report_of(report: verification.VerificationReport) -> dict[str, Any]:
    """A local report in the hub's answer shape, so both print the same way."""
    return {
        "verified": report.verified,
        "form": report.form,
        "record": dataclasses.asdict(report.record) if report.record is not None else None,
        "checks": [dataclasses.asdict(check) for check in report.checks],
        "sources": [dataclasses.asdict(source) for source in report.sources],
    }


def _print_report(report: dict[str, Any], *, language: str) -> None:
    verdict = "[green]verified[/green]" if report["verified"] else "[red]not verified[/red]"
    console.print(f"{verdict} ({report['form']})")
    record = report.get("record")
    if record:
        console.print(
            f"  {record['id']} {record['type']} issued by {record['issuer']}"
            + (f" to {record['holder']}" if record.get("holder") else "")
        )
    colours = {"passed": "green", "failed": "red", "skipped": "yellow"}
    for check in report["checks"]:
        reason = check["reason_fa"] if language == "fa" else check["reason"]
        colour = colours.get(check["result"], "white")
        console.print(f"  [{colour}]{check['result']:7}[/{colour}] {check['name']}: {reason}")
    for source in report.get("sources") or []:
        console.print(f"  source {source['name']}: refreshed {source['refreshed_at']}")


@app.command()
def verify(
    document: Annotated[
        str, typer.Argument(help="a file (VC-JWT, QR text, PDF, image of the QR) or the text")
    ],
    hub: Annotated[
        str | None, typer.Option(help="verify at this hub (POST /credentials/verify)")
    ] = None,
    offline: Annotated[
        bool, typer.Option(help="verify here, from the cache only (no network)")
    ] = False,
    cache: Annotated[Path | None, typer.Option(help="the cache folder, with --offline")] = None,
    timestamp: Annotated[
        Path | None, typer.Option(help="the VC-JWT's timestamp token (default: <name>.tst)")
    ] = None,
    language: Annotated[str, typer.Option("--lang", help="fa or en, for the reasons")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Verify a document and print each check; exit 0 when verified, 1 when not."""
    if (hub is None) == (not offline):
        raise _fail(ValidationError("give --hub URL, or --offline --cache DIR"))
    data, _ = _presented(document)
    token = _sibling_timestamp(document, timestamp)
    if hub is not None:
        try:
            answer = httpx.post(
                f"{hub.rstrip('/')}/credentials/verify",
                json=_online_body(data, token),
                timeout=120,
                trust_env=False,
            )
        except httpx.HTTPError as error:
            raise _fail(ValidationError(f"the hub at {hub} did not answer: {error}")) from error
        if answer.status_code != 200:
            raise _refused(answer)
        report: dict[str, Any] = answer.json()
    else:
        if cache is None:
            raise _fail(ValidationError("--offline needs --cache DIR"))
        if data.strip().startswith((b"http://", b"https://")):
            raise _fail(ValidationError("a pull link is a hub's page: verify it with --hub"))
        try:
            context = VerifierCache(cache).context()
            presented = verification.read_form(data, timestamp_token=token)
            report = _report_of(asyncio.run(verification.verify(presented, context)))
        except ZistboomError as error:
            raise _fail(error) from error
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, default=str, indent=2))
    else:
        _print_report(report, language=language)
    raise typer.Exit(0 if report["verified"] else 1)


@cache_app.command("refresh")
def cache_refresh(
    cache: CacheDir,
    documents: Annotated[
        list[str] | None,
        typer.Argument(help="documents (files or text) whose status lists to keep too"),
    ] = None,
    anchor: Annotated[
        Path | None, typer.Option(help="the instance's anchor (JSON), the first time")
    ] = None,
    hub: Annotated[str | None, typer.Option(help="the hub's URL, the first time")] = None,
    status_list: Annotated[
        list[str] | None, typer.Option("--status-list", help="a status list URL to keep")
    ] = None,
) -> None:
    """Fetch the global configuration, the trust list, the document types and the status
    lists into the cache; what could not be fetched is named (exit 1)."""
    try:
        parsed_anchor = gc.Anchor.from_json(anchor.read_bytes()) if anchor is not None else None
    except (OSError, ValueError) as error:
        raise _fail(ValidationError(f"{anchor} is not an anchor: {error}")) from error

    async def run() -> Refreshed:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            return await VerifierCache(cache).refresh(
                http=http,
                anchor=parsed_anchor,
                hub_url=hub,
                documents=[_presented(d)[0] for d in documents or []],
                status_lists=status_list or [],
            )

    try:
        refreshed = asyncio.run(run())
    except ZistboomError as error:
        raise _fail(error) from error
    console.print(
        f"cache {cache}: global configuration version {refreshed.conf_version}, trust list "
        f"sequence {refreshed.trust_list_sequence}, {refreshed.document_types} document types, "
        f"{len(refreshed.status_lists)} status lists"
    )
    for failure in refreshed.failures:
        err_console.print(f"[yellow]not refreshed:[/yellow] {failure}")
    if refreshed.failures:
        raise typer.Exit(1)
