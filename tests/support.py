"""Test support shared by several test folders: free ports and throwaway PostgreSQL databases."""

from __future__ import annotations

import os
import secrets
import socket

import asyncpg
import pytest

POSTGRES = os.environ.get("ZB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
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
