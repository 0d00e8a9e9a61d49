"""The agencies' inboxes in the apply world (``apply_world.py``): each agency's ``inbox``
subsystem serves the window's task service (asynchronous messages, ZB-STD-009, pulled by the
agency's system: no push endpoint), the window's subsystem may send to it, and the window knows
it (``zistboom window agency inbox``). Also what an agency's system does with its inbox: list
the messages, read one, acknowledge it."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx

from window.apply_world import ApplyWorld, _management, grant
from zistboom.window.settings import WindowSettings

TASK_SERVICE = WindowSettings().task_service_code
UNUSED_BACKEND = "http://127.0.0.1:9/unused"  # pulled messages never reach a backend


def open_inboxes(world: ApplyWorld) -> None:
    for member, gateway in ((world.civil, world.civil_gateway), (world.tax, world.tax_gateway)):
        with _management(gateway) as admin:
            added = admin.post("/services", json={
                "subsystem_id": f"{member}/inbox", "code": TASK_SERVICE,
                "backend_url": UNUSED_BACKEND, "description": "The single window's tasks",
            })  # fmt: skip
            assert added.status_code in (201, 409), added.text
        grant(gateway, f"{member}/inbox", TASK_SERVICE, world.window_subsystem)
        done = world.window.cli("agency", "inbox", "--member", member, "--subsystem", "inbox")
        assert done.returncode == 0, done.stderr


def inbox(world: ApplyWorld, member: str) -> list[dict[str, Any]]:
    """The messages in ``member``'s inbox, as its system lists them on its gateway."""
    gateway = world.civil_gateway if member == world.civil else world.tax_gateway
    answer = httpx.get(
        f"{gateway.url}/messages/v1/inbox",
        headers={"X-Road-Client": f"{member}/inbox"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["items"]
    for message in messages:
        message["task"] = json.loads(base64.b64decode(message["body_base64"]))
    return messages


def wait_for_task(
    world: ApplyWorld, member: str, tracking_code: str, seconds: float = 60
) -> dict[str, Any]:
    """The task of the application ``tracking_code`` in ``member``'s inbox, once it is there."""
    deadline = time.monotonic() + seconds
    while True:
        for message in inbox(world, member):
            if message["task"]["application"]["tracking_code"] == tracking_code:
                return message
        assert time.monotonic() < deadline, f"no task of {tracking_code} reached {member}"
        time.sleep(0.3)


def acknowledge(world: ApplyWorld, member: str, message_id: str) -> None:
    gateway = world.civil_gateway if member == world.civil else world.tax_gateway
    answer = httpx.post(
        f"{gateway.url}/messages/v1/inbox/{message_id}/ack",
        headers={"X-Road-Client": f"{member}/inbox"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
