"""The window's world in its tests, every part a real process: the exchange of
``exchange_world.py`` (central, the operator's and the civil registry's gateways, the persons
registry), the identity provider (``zistboom idp serve``, with the window registered as its
client and synthetic people, also in the civil registry), and the window itself, set up with
``zistboom window init`` against both. On PostgreSQL every component has its own database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from central_process import CentralProcess
from idp.provider import Person, Provider, start_provider
from window.exchange_world import Exchange, exchange
from window.window_process import WindowProcess, init_window, window_address


@dataclass
class World:
    exchange: Exchange
    provider: Provider
    window: WindowProcess

    @property
    def people(self) -> list[Person]:
        return self.provider.people

    def sms_code(self, person: Person, after: int) -> str:
        return self.provider.sms_code(person.phone_number, after=after)


# The civil registry's names of the world's people: not the provider's (whose claims name
# everyone زهرا احمدی), so a page shows which of the two it took.
REGISTRY_NAMES: dict[str, str] = {
    "given_name_fa": "نرگس",
    "family_name_fa": "رضایی",
    "given_name_en": "Narges",
    "family_name_en": "Rezaei",
}


def _names(person: Person) -> dict[str, str]:
    return {"national_code": person.national_code, **REGISTRY_NAMES}


@contextmanager
def window_world(
    root: Path,
    database_url: str | None,
    *,
    window_env: dict[str, str] | None = None,
    central: CentralProcess | None = None,
    seed_catalogue: bool = False,
) -> Iterator[World]:
    """The world; on ``central`` when given; with the catalogue's seed (``zistboom window
    services seed``) when asked."""
    with exchange(root / "exchange", database_url, central) as ex:
        port, url = window_address()
        provider_db = ex.federation._new_pg_database() if database_url else None
        provider = start_provider(
            root,
            provider_db,
            window_redirect=f"{url}/signin/callback",
            window_logout=f"{url}/signed-out",
        )
        window = None
        try:
            for person in provider.people:
                if person.subject.startswith("IR"):
                    ex.add_person(_names(person))
            env = ex.federation.env(window_env)
            if database_url:
                env["ZB_DATABASE_URL"] = ex.federation._new_pg_database()
            window = init_window(
                root, port=port, env=env, subsystem=ex.window_subsystem,
                gateway_url=ex.gateway.url, central_url=ex.federation.central.url,
                issuer=provider.url, secret_file=root / "window.secret",
                persons_registry=ex.persons_service,
            )  # fmt: skip
            if seed_catalogue:
                seeded = window.cli("services", "seed")
                assert seeded.returncode == 0, seeded.stdout + seeded.stderr
            window.start()
            yield World(ex, provider, window)
        finally:
            if window is not None:
                window.stop()
            provider.stop()
