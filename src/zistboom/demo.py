"""``zistboom demo``: the demo federation of instance IR-DEMO on one machine, with SQLite files.

For now: central with its seed data (the programme's ecosystems) and a few demo members.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from zistboom.central import operators, service
from zistboom.central.app import create_app, prepare
from zistboom.central.models import find_member
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction
from zistboom.core.persian import format_jalali, to_jalali_iso

console = Console()

# Synthetic demo organisations (legal-entity IDs generated with valid check digits).
DEMO_MEMBERS = (
    service.MemberInput(
        "GOV",
        "10380284790",
        "سازمان فناوری اطلاعات ایران",
        "Information Technology Organization of Iran",
        "agency",
    ),
    service.MemberInput(
        "GOV",
        "12147922321",
        "سازمان ثبت احوال کشور",
        "National Organization for Civil Registration",
        "agency",
    ),
    service.MemberInput(
        "GOV",
        "60711446972",
        "سازمان امور مالیاتی کشور",
        "Iranian National Tax Administration",
        "agency",
    ),
    service.MemberInput(
        "GOV",
        "16394841376",
        "اداره ثبت شرکت‌ها",
        "Companies Registration Office",
        "agency",
    ),
    service.MemberInput(
        "PUB",
        "15222078494",
        "اپراتور پنجره واحد خدمات",
        "Single Service Window Operator",
        "public-body",
    ),
    service.MemberInput(
        "COM",
        "88135404915",
        "شرکت زیست‌بوم مالی نمونه",
        "Sample Finance Ecosystem Company",
        "ecosystem-operator",
    ),
)


async def _seed(
    settings: CentralSettings,
) -> tuple[str | None, list[list[str]], list[list[str]]]:
    prepared = await prepare(settings)
    try:
        async with transaction(prepared.sessions) as session:
            members = []
            for data in DEMO_MEMBERS:
                member = await find_member(session, settings.instance, data.member_class, data.code)
                if member is None:
                    member = await service.register_member(
                        session, settings.instance, data, actor=operators.SYSTEM
                    )
                members.append([member.identifier, member.name_fa, member.name_en, member.kind])
            rows = [
                [
                    e.key,
                    e.name_fa,
                    e.name_en,
                    str(e.phase),
                    f"{to_jalali_iso(e.deadline)} ({e.deadline.isoformat()})"
                    if e.deadline
                    else "—",
                    format_jalali(e.deadline) if e.deadline else "—",
                ]
                for e in await service.list_ecosystems(session)
            ]
        return prepared.first_admin_key, rows, members
    finally:
        await prepared.engine.dispose()


def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="where the demo keeps its files")
    ] = Path("var/demo"),
    port: Annotated[int, typer.Option(help="central's port")] = 8600,
) -> None:
    """Run the demo federation (instance IR-DEMO) until interrupted."""
    settings = CentralSettings(
        data_dir=data_dir / "central", instance="IR-DEMO", host="127.0.0.1", port=port
    )
    admin_key, rows, members = asyncio.run(_seed(settings))
    member_table = Table(title="Demo members (اعضای نمونه)")
    for column in ("id", "fa", "en", "kind"):
        member_table.add_column(column, no_wrap=column == "id")
    for member in members:
        member_table.add_row(*member)
    console.print(member_table)
    table = Table(title="Ecosystems (زیست‌بوم‌ها)")
    for column in ("key", "fa", "en", "phase", "deadline (Jalali / Gregorian)", "مهلت"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    base = settings.base_url
    if admin_key:
        console.print(
            f"First admin API key (shown once): {admin_key}", highlight=False, soft_wrap=True
        )
    console.print(f"Central:  {base}   OpenAPI: {base}/openapi.json   docs: {base}/docs")
    console.print("Try:")
    for call in (
        f"curl -sf {base}/api/v1/ecosystems",
        f"curl -sf {base}/global-conf",
        f"curl -sf {base}/api/v1/programme",
        f"curl -sf {base}/anchor",
    ):
        console.print(call, soft_wrap=True, highlight=False, markup=False)
    console.print("Serving until interrupted (Ctrl-C).")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
