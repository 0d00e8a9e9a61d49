"""``zistboom documents …``: the documents hub (``hub``), the issuer service (``issuer``),
issuing a document through the exchange as one of the agency's information systems
(``issue``), verifying one (``verify``) online at a hub or offline from a cache, and refreshing
that cache (``cache refresh``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.core.identifiers import ServiceId, parse_client_header
from zistboom.documents.hub.cli import app as hub_app
from zistboom.documents.issuer.cli import app as issuer_app

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
