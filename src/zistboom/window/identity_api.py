"""The window operator's management API for officials: appointing an agency's first
``agency-admin`` (on the agency's request) and reading who holds which role at an agency.
Bearer: the operator's token (``DATA_DIR/admin-token``)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from zistboom.core import identifiers
from zistboom.core.database import transaction
from zistboom.core.errors import AuthenticationError
from zistboom.core.problems import problem_responses
from zistboom.window import identity_repository as repository
from zistboom.window import officials
from zistboom.window.identity_models import RoleGrant
from zistboom.window.state import state_of

bearer = HTTPBearer(auto_error=False, description="the window operator's token")
AgencyId = Annotated[
    str,
    Path(
        pattern=identifiers.MEMBER_ID_PATTERN,
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
        description="the agency's member id, INSTANCE/CLASS/CODE",
    ),
]


def operator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Refuse (401) a call without the operator's token."""
    token = state_of(request).admin_token
    if credentials is None or not hmac.compare_digest(credentials.credentials, token):
        raise AuthenticationError("the window operator's bearer token is required")


class FirstAdminIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(
        min_length=10, max_length=24, description="IR + national code, or FN + foreign ID"
    )
    request_reference: str = Field(
        min_length=1, max_length=200, description="the agency's request (letter number, date)"
    )


class RoleGrantOut(BaseModel):
    id: int
    agency: str
    subject: str
    role: str
    granted_by: str
    granted_at: datetime

    @classmethod
    def of(cls, grant: RoleGrant) -> RoleGrantOut:
        return cls(
            id=grant.id, agency=grant.agency, subject=grant.subject, role=grant.role,
            granted_by=grant.granted_by, granted_at=grant.granted_at,
        )  # fmt: skip


management = APIRouter(prefix="/api/v1", tags=["officials"], dependencies=[Depends(operator)])


@management.post(
    "/agencies/{agency:path}/first-admin",
    status_code=201,
    response_model=RoleGrantOut,
    responses=problem_responses(401, 404, 409, 422),
)
async def appoint_first_admin(
    agency: AgencyId, body: FirstAdminIn, request: Request
) -> RoleGrantOut:
    """Appoint the agency's first ``agency-admin``; refused once it has one."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        grant = await officials.appoint_first_admin(
            session, agency=agency, subject=body.subject,
            request_reference=body.request_reference, now=state.clock(),
        )  # fmt: skip
        return RoleGrantOut.of(grant)


@management.get(
    "/agencies/{agency:path}/roles",
    response_model=list[RoleGrantOut],
    responses=problem_responses(401, 422),
)
async def agency_roles(agency: AgencyId, request: Request) -> list[RoleGrantOut]:
    """Who holds which role at the agency now."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return [RoleGrantOut.of(g) for g in await repository.agency_grants(session, agency)]
