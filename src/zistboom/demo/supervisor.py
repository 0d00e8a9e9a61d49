"""The demo's components as child processes: started, waited on until they serve, watched, and
stopped.

Each component runs as its own process (its real command, e.g. ``zistboom gateway serve``) in
its own process group, so a Ctrl-C on the terminal reaches the supervisor only and the
supervisor stops the components itself: SIGTERM to each component's process group, a grace
period, then SIGKILL. A component's
standard output and error go to its log file. A component that dies is reported (name, pid,
exit code, the last lines of its log) and not restarted; the others keep running. On Linux each
child also asks the kernel for SIGTERM should the supervisor itself die (``PR_SET_PDEATHSIG``),
so even a killed supervisor leaves no orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from zistboom.core.errors import ZistboomError

PR_SET_PDEATHSIG = 1
TAIL_BYTES = 16 * 1024


class ComponentFailedError(ZistboomError):
    """A component exited, or did not come up in time, while the demo was starting."""

    code = "component-failed"
    title = "Component failed"


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    argv: tuple[str, ...]
    listens: tuple[tuple[str, int], ...]
    """What each port is for, e.g. ``("client", 8610)``; each must accept connections."""
    health_url: str
    """Answers 200 once the component serves."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Set in the child's environment on top of the supervisor's."""

    @property
    def log_name(self) -> str:
        return self.name.replace(" ", "-") + ".log"


@dataclass(slots=True)
class Running:
    component: Component
    process: asyncio.subprocess.Process
    log_path: Path
    log_start: int
    """Where this run's output begins in the log file (earlier runs' output comes before)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"exit code {returncode}, killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def tail(path: Path, start: int = 0, lines: int = 12) -> list[str]:
    """The last ``lines`` lines of a log file written after offset ``start`` (of its last
    16 KiB)."""
    try:
        with path.open("rb") as log:
            log.seek(max(start, log.seek(0, os.SEEK_END) - TAIL_BYTES))
            text = log.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:]


class Supervisor:
    """Starts components, reports those that die (``on_death``), and stops them all."""

    def __init__(self, log_dir: Path, on_death: Callable[[Running, int], None]) -> None:
        self.log_dir = log_dir
        self.on_death = on_death
        self.running: list[Running] = []
        self.all_exited = asyncio.Event()
        self._stopping = False
        self._watchers: list[asyncio.Task[None]] = []
        self._prctl = _linux_prctl()

    async def start(self, component: Component) -> Running:
        if self._stopping:
            raise ComponentFailedError(f"not starting {component.name}: the demo is stopping")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / component.log_name
        with log_path.open("ab") as log:
            log_start = log.tell()
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {stamp} zistboom demo starts: {shlex.join(component.argv)}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *component.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **component.env},
                start_new_session=True,
                preexec_fn=self._ask_for_death_signal(os.getpid()),
            )
        running = Running(component, process, log_path, log_start)
        self.running.append(running)
        self.all_exited.clear()
        self._watchers.append(asyncio.create_task(self._watch(running), name=component.name))
        return running

    async def wait_ready(self, running: Running, within: float = 60.0) -> None:
        """Until the component accepts connections on every port and its health URL answers 200;
        fails when it exits first or is not ready at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        component = running.component
        async with httpx.AsyncClient(timeout=2) as client:
            while not (await _serves(client, component) and running.alive):
                if not running.alive:
                    raise ComponentFailedError(
                        f"{component.name} (pid {running.pid}) exited while starting "
                        f"({describe_exit(running.process.returncode or 0)}); "
                        f"see {running.log_path}"
                    )
                if loop.time() > deadline:
                    raise ComponentFailedError(
                        f"{component.name} (pid {running.pid}) did not come up within "
                        f"{within:.0f} s; see {running.log_path}"
                    )
                await asyncio.sleep(0.1)

    async def check_ports_free(self, components: list[Component]) -> None:
        """Fails, naming them, when something already listens on any of the ports (another
        demo, say), before any component is started."""
        busy = [
            f"{port} ({component.name}, {label})"
            for component in components
            for label, port in component.listens
            if await _accepts(port)
        ]
        if busy:
            raise ComponentFailedError(
                f"already in use: port {', '.join(busy)}. Is another demo running? Stop it, or "
                "move every port with --base-port"
            )

    async def stop(self, grace: float = 10.0) -> list[Running]:
        """Stop every component still running: SIGTERM, and SIGKILL for those still there
        after ``grace`` seconds. Returns the components that had to be killed."""
        self._stopping = True
        alive = [r for r in self.running if r.alive]
        for running in alive:
            _signal_group(running, signal.SIGTERM)
        waits = [asyncio.create_task(r.process.wait()) for r in alive]
        killed: list[Running] = []
        if waits:
            await asyncio.wait(waits, timeout=grace)
            for running in alive:
                if running.alive:
                    killed.append(running)
                    _signal_group(running, signal.SIGKILL)
            await asyncio.gather(*waits)
        for watcher in self._watchers:
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        return killed

    async def _watch(self, running: Running) -> None:
        returncode = await running.process.wait()
        if not self._stopping:
            self.on_death(running, returncode)
        if not any(r.alive for r in self.running):
            self.all_exited.set()

    def _ask_for_death_signal(self, parent: int) -> Callable[[], None] | None:
        prctl = self._prctl
        if prctl is None:
            return None

        def in_child() -> None:
            # Runs between fork and exec: nothing but the system call and a check that the
            # supervisor did not die before it was made.
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent:
                os._exit(1)

        return in_child


def _signal_group(running: Running, signum: signal.Signals) -> None:
    """The component and anything it started: it leads its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(running.pid, signum)


def _linux_prctl() -> Callable[[int, int], int] | None:
    """``prctl(2)``, loaded before any fork (None on other systems)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _serves(client: httpx.AsyncClient, component: Component) -> bool:
    for _, port in component.listens:
        if not await _accepts(port):
            return False
    try:
        return (await client.get(component.health_url)).status_code == 200
    except httpx.TransportError:
        return False
