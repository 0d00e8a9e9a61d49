"""accreditation: placeholder on the ownership branch (the domain tables come from the domain
branch's 0001, which replaces this file at merge)

Revision ID: 0001
Revises:
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
