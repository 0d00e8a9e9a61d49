"""``zistboom accreditation …``: schemes, applications, assessors, accreditations and
recognitions, through central's API over HTTP with an operator's API key (``--api-key`` or
``ZB_API_KEY``), like any other client of the API. Answers are printed as JSON."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml

app = typer.Typer(
    help="The inter-chain service accreditation system (نظام اعتباربخشی میان‌زنجیره‌ای خدمات).",
    no_args_is_help=True,
)
scheme_app = typer.Typer(
    help="Schemes: criteria, evidence, levels and validity.", no_args_is_help=True
)
application_app = typer.Typer(
    help="Applications, their evidence, reviews and decisions.", no_args_is_help=True
)
assessor_app = typer.Typer(
    help="Assessor authority under schemes, and its delegation.", no_args_is_help=True
)
recognition_app = typer.Typer(
    help="Recognition of one ecosystem's scheme by another.", no_args_is_help=True
)
app.add_typer(scheme_app, name="scheme")
app.add_typer(application_app, name="application")
app.add_typer(assessor_app, name="assessor")
app.add_typer(recognition_app, name="recognition")

PREFIX = "/api/v1/accreditation"
Reason = Annotated[str, typer.Option("--reason", help="why; kept in the history")]


class Central:
    """Central's accreditation API, with the operator's key."""

    def __init__(self, url: str, api_key: str | None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=url.rstrip("/") + PREFIX, headers=headers, timeout=60)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            typer.echo(f"error: cannot reach central: {type(error).__name__}: {error}", err=True)
            raise typer.Exit(2) from error
        if response.status_code >= 400:
            typer.echo(f"error: {_problem(response)}", err=True)
            raise typer.Exit(1)
        return (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else response.content
        )


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    detail = body.get("detail", response.text) if isinstance(body, dict) else response.text
    fields = [e.get("field") for e in body.get("errors", [])] if isinstance(body, dict) else []
    named = f" (field {', '.join(str(f) for f in fields if f)})" if any(fields) else ""
    return f"HTTP {response.status_code}: {detail}{named}"


@app.callback()
def connect(
    ctx: typer.Context,
    central: Annotated[
        str,
        typer.Option("--central", envvar="ZB_CENTRAL_URL", help="central's URL"),
    ] = "http://127.0.0.1:8600",
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="ZB_API_KEY", help="an operator API key (zb_…)"),
    ] = None,
) -> None:
    ctx.obj = Central(central, api_key)


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _central(ctx: typer.Context) -> Central:
    central: Central = ctx.obj
    return central


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --- schemes -------------------------------------------------------------------------------


@scheme_app.command("create")
def scheme_create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the scheme as JSON or YAML (see the API)")],
) -> None:
    """Publish a scheme (admin)."""
    body = yaml.safe_load(file.read_text("utf-8"))
    _print(_central(ctx).call("POST", "/schemes", json=body))


@scheme_app.command("list")
def scheme_list(
    ctx: typer.Context,
    ecosystem: Annotated[str | None, typer.Option(help="only this ecosystem's")] = None,
) -> None:
    _print(_central(ctx).call("GET", "/schemes", params=_params(ecosystem=ecosystem)))


@scheme_app.command("show")
def scheme_show(ctx: typer.Context, code: str) -> None:
    _print(_central(ctx).call("GET", f"/schemes/{code}"))


@scheme_app.command("retire")
def scheme_retire(ctx: typer.Context, code: str, reason: Reason) -> None:
    """Withdraw a scheme from use (admin)."""
    _print(_central(ctx).call("POST", f"/schemes/{code}/retire", json={"reason": reason}))


# --- applications -------------------------------------------------------------------------


@application_app.command("submit")
def application_submit(
    ctx: typer.Context,
    scheme: Annotated[str, typer.Option(help="scheme code")],
    member: Annotated[str, typer.Option(help="the applicant, INSTANCE/CLASS/CODE")],
    level: Annotated[str, typer.Option(help="basic, substantial or high")],
    scope: Annotated[str, typer.Option(help="member, subsystem or service")] = "member",
    subject: Annotated[str | None, typer.Option(help="the subsystem or service")] = None,
    statement: Annotated[str, typer.Option(help="what the applicant says")] = "",
) -> None:
    body = {
        "scheme": scheme,
        "member_id": member,
        "level": level,
        "scope": scope,
        "subject": subject,
        "statement": statement,
    }
    _print(_central(ctx).call("POST", "/applications", json=body))


@application_app.command("list")
def application_list(
    ctx: typer.Context,
    member: Annotated[str | None, typer.Option()] = None,
    scheme: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
) -> None:
    params = _params(member_id=member, scheme=scheme, status=status)
    _print(_central(ctx).call("GET", "/applications", params=params))


@application_app.command("show")
def application_show(ctx: typer.Context, application: str) -> None:
    _print(_central(ctx).call("GET", f"/applications/{application}"))


@application_app.command("evidence")
def application_evidence(
    ctx: typer.Context,
    application: str,
    file: Annotated[Path, typer.Argument(help="the evidence file")],
    criterion: Annotated[str, typer.Option(help="the criterion it supports")],
    media_type: Annotated[
        str | None, typer.Option(help="guessed from the name if not given")
    ] = None,
) -> None:
    """Attach a file; its SHA-256 is sent along and checked by central."""
    content = file.read_bytes()
    media = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    params = {
        "criterion": criterion,
        "filename": file.name,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    _print(
        _central(ctx).call(
            "POST",
            f"/applications/{application}/evidence",
            params=params,
            content=content,
            headers={"Content-Type": media},
        )
    )


@application_app.command("start-review")
def application_start_review(
    ctx: typer.Context, application: str, note: Annotated[str, typer.Option()] = ""
) -> None:
    _print(
        _central(ctx).call("POST", f"/applications/{application}/start-review", json={"note": note})
    )


@application_app.command("request-information")
def application_request_information(
    ctx: typer.Context, application: str, note: Annotated[str, typer.Option(help="what is missing")]
) -> None:
    path = f"/applications/{application}/request-information"
    _print(_central(ctx).call("POST", path, json={"note": note}))


@application_app.command("respond")
def application_respond(
    ctx: typer.Context, application: str, note: Annotated[str, typer.Option(help="the answer")]
) -> None:
    _print(_central(ctx).call("POST", f"/applications/{application}/respond", json={"note": note}))


@application_app.command("review")
def application_review(
    ctx: typer.Context,
    application: str,
    criterion: str,
    outcome: Annotated[str, typer.Option(help="met or not-met")],
    note: Annotated[str, typer.Option()] = "",
) -> None:
    path = f"/applications/{application}/criteria/{criterion}/review"
    _print(_central(ctx).call("POST", path, json={"outcome": outcome, "note": note}))


@application_app.command("decide")
def application_decide(
    ctx: typer.Context,
    application: str,
    outcome: Annotated[str, typer.Option(help="granted or refused")],
    reasons: Annotated[str, typer.Option(help="the reasons for the decision")],
    level: Annotated[str | None, typer.Option(help="the level granted (default: asked)")] = None,
    condition: Annotated[list[str] | None, typer.Option(help="a condition; repeat")] = None,
    validity_days: Annotated[int | None, typer.Option()] = None,
) -> None:
    body = {
        "outcome": outcome,
        "reasons": reasons,
        "level": level,
        "conditions": condition or [],
        "validity_days": validity_days,
    }
    _print(_central(ctx).call("POST", f"/applications/{application}/decision", json=body))


# --- assessors ---------------------------------------------------------------------------


@assessor_app.command("grant")
def assessor_grant(
    ctx: typer.Context,
    key: Annotated[str, typer.Option(help="the assessor key's id")],
    scheme: Annotated[str, typer.Option()],
    reason: Reason,
    depth: Annotated[int, typer.Option(help="how many further delegations it allows")] = 0,
) -> None:
    """Authorise an assessor key under a scheme (admin)."""
    body = {"key_id": key, "scheme": scheme, "depth": depth, "reason": reason}
    _print(_central(ctx).call("POST", "/assessors", json=body))


@assessor_app.command("delegate")
def assessor_delegate(
    ctx: typer.Context,
    authorisation: Annotated[str, typer.Argument(help="asr-<n>, held by your key")],
    key: Annotated[str, typer.Option(help="the other assessor key's id")],
    reason: Reason,
    depth: Annotated[int, typer.Option()] = 0,
) -> None:
    body = {"key_id": key, "depth": depth, "reason": reason}
    _print(_central(ctx).call("POST", f"/assessors/{authorisation}/delegations", json=body))


@assessor_app.command("withdraw")
def assessor_withdraw(ctx: typer.Context, authorisation: str, reason: Reason) -> None:
    """Withdraw an authority and everything delegated from it."""
    path = f"/assessors/{authorisation}/withdraw"
    _print(_central(ctx).call("POST", path, json={"reason": reason}))


@assessor_app.command("list")
def assessor_list(
    ctx: typer.Context,
    scheme: Annotated[str | None, typer.Option()] = None,
    key: Annotated[str | None, typer.Option()] = None,
) -> None:
    _print(_central(ctx).call("GET", "/assessors", params=_params(scheme=scheme, key_id=key)))


# --- accreditations ------------------------------------------------------------------------


@app.command("list")
def accreditation_list(
    ctx: typer.Context,
    scheme: Annotated[str | None, typer.Option()] = None,
    member: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="active, suspended, expired, …")] = None,
    at: Annotated[str | None, typer.Option(help="RFC 3339 time (default: now)")] = None,
) -> None:
    """Accreditations with their status now (or at --at)."""
    params = _params(scheme=scheme, member_id=member, status=status, at=at)
    _print(_central(ctx).call("GET", "/accreditations", params=params))


@app.command("show")
def accreditation_show(
    ctx: typer.Context,
    accreditation: str,
    at: Annotated[str | None, typer.Option(help="RFC 3339 time (default: now)")] = None,
) -> None:
    """One accreditation with its history."""
    path = f"/accreditations/{accreditation}"
    _print(_central(ctx).call("GET", path, params=_params(at=at)))


def _change(ctx: typer.Context, accreditation: str, change: str, reason: str) -> None:
    path = f"/accreditations/{accreditation}/{change}"
    _print(_central(ctx).call("POST", path, json={"reason": reason}))


@app.command("suspend")
def accreditation_suspend(ctx: typer.Context, accreditation: str, reason: Reason) -> None:
    """Suspend an accreditation (admin, or an assessor of the scheme)."""
    _change(ctx, accreditation, "suspend", reason)


@app.command("reinstate")
def accreditation_reinstate(ctx: typer.Context, accreditation: str, reason: Reason) -> None:
    """Reinstate a suspended accreditation."""
    _change(ctx, accreditation, "reinstate", reason)


@app.command("revoke")
def accreditation_revoke(ctx: typer.Context, accreditation: str, reason: Reason) -> None:
    """Revoke an accreditation for good."""
    _change(ctx, accreditation, "revoke", reason)


@app.command("withdraw")
def accreditation_withdraw(ctx: typer.Context, accreditation: str, reason: Reason) -> None:
    """Withdraw an accreditation (the member itself, admin or registrar)."""
    _change(ctx, accreditation, "withdraw", reason)


# --- recognitions ----------------------------------------------------------------------


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not LEVEL=LEVEL (e.g. high=substantial)")
        mapping[source.strip()] = target.strip()
    return mapping


Kinds = Annotated[list[str], typer.Option("--kind", help="a kind of service here; repeat")]
Mapping = Annotated[
    list[str], typer.Option("--map", help="SCHEME_LEVEL=LEVEL_HERE, e.g. high=substantial; repeat")
]
ValidUntil = Annotated[str, typer.Option(help="RFC 3339")]
ValidFrom = Annotated[str | None, typer.Option(help="RFC 3339 (default: now)")]


@recognition_app.command("create")
def recognition_create(
    ctx: typer.Context,
    ecosystem: Annotated[str, typer.Option(help="the recognising ecosystem")],
    scheme: Annotated[str, typer.Option(help="another ecosystem's scheme")],
    kind: Kinds,
    map: Mapping,
    valid_until: ValidUntil,
    reason: Reason,
    valid_from: ValidFrom = None,
) -> None:
    body = {
        "ecosystem": ecosystem,
        "scheme": scheme,
        "kinds": kind,
        "level_mapping": _mapping(map),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "reason": reason,
    }
    _print(_central(ctx).call("POST", "/recognitions", json=body))


@recognition_app.command("version")
def recognition_version(
    ctx: typer.Context,
    recognition: str,
    kind: Kinds,
    map: Mapping,
    valid_until: ValidUntil,
    reason: Reason,
    valid_from: ValidFrom = None,
) -> None:
    """New terms; the current version is revoked as this one is granted."""
    body = {
        "kinds": kind,
        "level_mapping": _mapping(map),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "reason": reason,
    }
    _print(_central(ctx).call("POST", f"/recognitions/{recognition}/versions", json=body))


@recognition_app.command("revoke")
def recognition_revoke(ctx: typer.Context, recognition: str, reason: Reason) -> None:
    path = f"/recognitions/{recognition}/revoke"
    _print(_central(ctx).call("POST", path, json={"reason": reason}))


@recognition_app.command("list")
def recognition_list(
    ctx: typer.Context, ecosystem: Annotated[str | None, typer.Option()] = None
) -> None:
    _print(_central(ctx).call("GET", "/recognitions", params=_params(ecosystem=ecosystem)))


@recognition_app.command("show")
def recognition_show(ctx: typer.Context, recognition: str) -> None:
    _print(_central(ctx).call("GET", f"/recognitions/{recognition}"))
