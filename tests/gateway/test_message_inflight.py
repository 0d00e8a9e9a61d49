"""A worker's deliveries in flight: bounded in number and in bytes of bodies."""

from __future__ import annotations

import asyncio

from zistboom.gateway.messaging.inflight import InFlight


async def test_the_bounds_of_number_and_bytes_hold_and_free_as_deliveries_end() -> None:
    in_flight = InFlight(workers=3, budget_bytes=100)
    gates = [asyncio.Event() for _ in range(3)]
    assert in_flight.free() == 3
    in_flight.start(gates[0].wait(), 60)
    assert (len(in_flight), in_flight.bytes, in_flight.free()) == (1, 60, 2)
    in_flight.start(gates[1].wait(), 50)  # past the budget: no more claims
    assert (in_flight.bytes, in_flight.free()) == (110, 0)
    gates[0].set()
    await asyncio.sleep(0.01)
    assert (len(in_flight), in_flight.bytes, in_flight.free()) == (1, 50, 2)
    in_flight.start(gates[2].wait(), 0)
    in_flight.start(asyncio.Event().wait(), 0)
    assert in_flight.free() == 0  # three in flight, the number's bound
    await in_flight.cancel()
    await asyncio.sleep(0)  # the tasks' done callbacks
    assert (len(in_flight), in_flight.bytes, in_flight.free()) == (0, 0, 3)
