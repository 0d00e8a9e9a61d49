"""The hub's copies of central's global configuration and trust list: taken at start, kept on
disk, and used from there when central cannot be reached (a restart while central is down
still checks deposits against the CA, the TSA and the accreditations)."""

from __future__ import annotations

import httpx
import pytest

from central_process import stop_central
from documents.hub.world import World, new_person

pytestmark = pytest.mark.timeout(600)


def test_a_restarted_hub_works_from_its_last_good_copies(world: World) -> None:
    assert (world.data_dir / "global-conf" / "global-conf.jws").exists()
    assert (world.data_dir / "trust-list" / "trust-list.jws").exists()
    issued = world.issue(new_person())  # timestamped while central runs
    stop_central(world.central.process)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{world.central.url}/health", timeout=2)

    world.restart_hub()
    # The deposit's checks need the CA, the TSA certificate and the accreditation: all from
    # the copies (without a trust list it would be refused, naming that).
    answer = world.deposit(issued)
    assert answer.status_code == 201, answer.text
