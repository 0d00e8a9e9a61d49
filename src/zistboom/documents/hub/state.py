"""What the hub's routes share while it runs (made in ``app.py``'s lifespan), and how a route
finds it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.backend import BehindGateway
from zistboom.documents.hub.identity import HubIdentity
from zistboom.documents.hub.service import Clock
from zistboom.documents.hub.settings import HubSettings
from zistboom.documents.hub.sources import Sources


@dataclass(slots=True)
class HubState:
    settings: HubSettings
    sessions: async_sessionmaker[AsyncSession]
    identity: HubIdentity
    sources: Sources
    gateway: BehindGateway
    admin_token: str
    clock: Clock


def state_of(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state
