"""The service the part-2 tests apply for, in the apply world: a tax clearance whose data comes
from two registries of two agencies (the civil registry's persons, found by the applicant's
national code; the tax administration's taxpayers, by their taxpayer id), that needs the
applicant's birth-certificate extract from their locker, and whose form asks a purpose (at
most 40 characters) and a number of copies (at least 1). Its first step is the tax
administration's, the second the civil registry's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mail_server import SmtpServer, start_smtp
from window.apply_world import ApplyWorld, apply_world
from window.inboxes import open_inboxes

SERVICE_CODE = "clearance-for-loan"
NAME_FA = "گواهی مفاصاحساب برای وام"
NAME_EN = "Tax clearance for a loan"


def definition(world: ApplyWorld) -> dict[str, Any]:
    return {
        "code": SERVICE_CODE, "name_fa": NAME_FA, "name_en": NAME_EN,
        "summary_fa": "گواهی نداشتن بدهی مالیاتی برای بانک", "summary_en": "A clearance for a bank",
        "keywords_fa": ["مفاصاحساب وام"], "keywords_en": ["loan clearance"],
        "ecosystem": "tax", "audience": ["person"],
        "outcome": {"kind": "document", "document_type": "tax-clearance"},
        "base_data": [
            {"registry": world.persons_service,
             "items": ["national_code", "given_name_fa", "family_name_fa"],
             "why_fa": "متقاضی شناسایی می‌شود.", "why_en": "The applicant is identified.",
             "find_by": "national_code"},
            {"registry": world.taxpayers_service,
             "items": ["taxpayer_id", "status", "outstanding_debt_rial"],
             "why_fa": "بدهی قطعی شما بررسی می‌شود.", "why_en": "Your final tax debt is checked.",
             "find_by": "taxpayer_id"},
        ],
        "documents": [{"document_type": "birth-certificate-extract",
                       "why_fa": "احراز هویت متقاضی", "why_en": "The applicant's identity"}],
        "form": {"type": "object", "properties": {
            "purpose": {"type": "string", "title": "هدف", "x-title-en": "Purpose", "maxLength": 40},
            "copies": {"type": "integer", "minimum": 1, "maximum": 5, "title": "تعداد نسخه",
                       "x-title-en": "Copies"},
        }, "required": ["purpose", "copies"]},
        "fees": [], "expected_days": 3,
        "steps": [
            {"key": "review", "name_fa": "بررسی پرونده", "name_en": "Review",
             "agencies": [world.tax], "deadline_days": 2},
            {"key": "confirm", "name_fa": "تأیید هویت", "name_en": "Identity check",
             "agencies": [world.civil], "deadline_days": 1, "after": ["review"]},
        ],
    }  # fmt: skip


def list_service(world: ApplyWorld, folder: Path) -> str:
    """Import the service for the tax administration; its page's path at the window."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "service.yaml"
    file.write_text(yaml.safe_dump([definition(world)], allow_unicode=True))
    done = world.window.cli("services", "import", "--agency", world.tax, "--file", str(file))
    assert done.returncode == 0, done.stdout + done.stderr
    return f"/services/{world.tax}/{SERVICE_CODE}"


@dataclass
class Journey:
    """The apply world with the agencies' inboxes open, an SMTP server the window sends its
    notices to, and the service listed (its page's path)."""

    world: ApplyWorld
    service_path: str
    smtp: SmtpServer


@contextmanager
def journey_world(root: Path, database_url: str | None) -> Iterator[Journey]:
    smtp = start_smtp()
    try:
        with apply_world(root, database_url, smtp=smtp) as world:
            open_inboxes(world)
            yield Journey(world, list_service(world, root / "services"), smtp)
    finally:
        smtp.controller.stop()
