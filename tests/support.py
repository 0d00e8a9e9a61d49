"""Test support shared by several test folders: free ports and throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import random
import secrets
import socket

import asyncpg
import pytest

POSTGRES = os.environ.get("ZB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


# Ports handed out by this process, never twice.
_given: set[int] = set()
_rng = random.SystemRandom()


def free_port() -> int:
    """A port free now, below the ephemeral range (32768 and up on Linux): a port the kernel
    hands out for bind(0) is one it may hand out again for an outgoing connection before the
    server that was meant to get it binds it (seen as "address already in use")."""
    while True:
        port = _rng.randrange(20000, 32000)
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port


async def create_pg_database() -> tuple[str, str]:
    """A fresh, uniquely named database on the test server; returns (name, asyncpg URL)."""
    name = f"zb_test_{secrets.token_hex(6)}"
    try:
        connection = await asyncpg.connect(POSTGRES, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {POSTGRES} is not reachable ({error}); it is required")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


async def drop_pg_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES, timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
