"""The message path of a gateway: its client side (:mod:`zistboom.gateway.client_side`) and
its server side (:mod:`zistboom.gateway.server_side`), made, started and stopped together."""

from __future__ import annotations

from zistboom.gateway.access import Registry
from zistboom.gateway.accreditation import Accreditations
from zistboom.gateway.client_side import ClientSide
from zistboom.gateway.messagelog import MessageLog
from zistboom.gateway.monitoring import Monitor
from zistboom.gateway.replay import ReplayMemory
from zistboom.gateway.server_side import ServerSide
from zistboom.gateway.settings import GatewaySettings
from zistboom.gateway.trust import GatewayIdentity, Trust


class Exchange:
    """A gateway's message path (both sides)."""

    def __init__(
        self,
        settings: GatewaySettings,
        identity: GatewayIdentity,
        trust: Trust,
        registry: Registry,
        message_log: MessageLog,
        monitor: Monitor,
        replays: ReplayMemory,
        accreditations: Accreditations | None = None,
    ) -> None:
        parts = (settings, identity, trust, registry, message_log, monitor)
        self.identity = identity
        self.client_side = ClientSide(*parts)
        self.server_side = ServerSide(*parts, replays=replays, accreditations=accreditations)

    async def start(self) -> None:
        await self.client_side.start()
        await self.server_side.start()

    async def stop(self) -> None:
        await self.client_side.stop()
        await self.server_side.stop()

    def reload_tls(self) -> None:
        """New peer connections from now on (see :meth:`ClientSide.reload_tls`)."""
        self.client_side.reload_tls()
