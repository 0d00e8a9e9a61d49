"""What the provider's routes share, made once at start-up and kept on ``app.state.idp``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from zistboom.idp.keys import SigningKey
from zistboom.idp.notify import Notifier
from zistboom.idp.service import Clock
from zistboom.idp.settings import IdpSettings


@dataclass(slots=True)
class IdpState:
    settings: IdpSettings
    sessions: async_sessionmaker[AsyncSession]
    key: SigningKey
    notifier: Notifier
    clock: Clock


def state_of(request: Request) -> IdpState:
    state: IdpState = request.app.state.idp
    return state
