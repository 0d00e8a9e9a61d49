"""Gateways hosting other members in the global configuration (ZB-STD-003 §5.4)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from standard_examples import fenced_examples
from zistboom.core.globalconf import GlobalConf

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-003-global-configuration.md"


def example_payload() -> dict[str, object]:
    blocks = dict(fenced_examples(STANDARD.read_text(encoding="utf-8")))
    payload: dict[str, object] = orjson.loads(blocks["global-conf-payload"])
    return payload


def test_hosted_members_are_served_by_the_hosting_gateway_and_omitted_when_empty() -> None:
    payload = example_payload()
    plain = GlobalConf.model_validate(payload)
    assert b"hosted_members" not in plain.canonical_json()
    gateways = payload["gateways"]
    assert isinstance(gateways, list)
    members = [m["id"] for m in payload["members"]]  # type: ignore[attr-defined]
    owner = gateways[0]["member"]
    guest = next(m for m in members if m != owner)
    gateways[0]["hosted_members"] = [guest]
    hosting = GlobalConf.model_validate(payload)
    served = [g.id for g in hosting.gateway_for_member(guest)]
    assert gateways[0]["id"] in served
    assert served[-1] == gateways[0]["id"]  # a member's own gateways come first
    assert b"hosted_members" in hosting.canonical_json()
    assert hosting.content_digest() != plain.content_digest()


@pytest.mark.parametrize("which", ["unlisted", "own"])
def test_a_gateway_cannot_host_an_unlisted_member_or_its_own(which: str) -> None:
    payload = example_payload()
    gateways = payload["gateways"]
    assert isinstance(gateways, list)
    listed = str(payload["members"])
    unlisted = next(
        f"IR-DEMO/GOV/{code}"
        for code in ("10380284790", "12147922321", "60711446972", "16394841376")
        if code not in listed
    )
    gateways[0]["hosted_members"] = [unlisted if which == "unlisted" else gateways[0]["member"]]
    with pytest.raises(ValidationError, match="hosted_members"):
        GlobalConf.model_validate(payload)
