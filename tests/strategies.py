"""Hypothesis strategies for valid identifiers, shared by every test that needs realistic ones.

Each strategy draws from the generators in zistboom.core.iran with a Hypothesis-controlled
random.Random, so failures shrink and replay deterministically.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from zistboom.core.identifiers import (
    INSTANCES,
    MEMBER_CLASSES,
    GatewayId,
    MemberId,
    PersonId,
    ServiceId,
    SubsystemId,
)
from zistboom.core.iran import (
    generate_foreign_national_id,
    generate_iban,
    generate_legal_entity_id,
    generate_mobile,
    generate_national_code,
    generate_postal_code,
)

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"


def _generated(generator: Callable[[random.Random], str]) -> st.SearchStrategy[str]:
    return st.randoms(use_true_random=False).map(generator)


def national_codes() -> st.SearchStrategy[str]:
    return _generated(generate_national_code)


def legal_entity_ids() -> st.SearchStrategy[str]:
    return _generated(generate_legal_entity_id)


def postal_codes() -> st.SearchStrategy[str]:
    return _generated(generate_postal_code)


def mobiles() -> st.SearchStrategy[str]:
    return _generated(generate_mobile)


def ibans() -> st.SearchStrategy[str]:
    return _generated(generate_iban)


def foreign_national_ids() -> st.SearchStrategy[str]:
    return _generated(generate_foreign_national_id)


def codes() -> st.SearchStrategy[str]:
    """Subsystem, service and gateway codes: 1..64 of [A-Za-z0-9._-], never '.' or '..'."""
    return st.text(alphabet=CODE_ALPHABET, min_size=1, max_size=64).filter(
        lambda code: code not in (".", "..")
    )


def member_ids() -> st.SearchStrategy[MemberId]:
    return st.builds(
        MemberId,
        st.sampled_from(INSTANCES),
        st.sampled_from(list(MEMBER_CLASSES)),
        legal_entity_ids(),
    )


def subsystem_ids() -> st.SearchStrategy[SubsystemId]:
    return st.builds(SubsystemId, member_ids(), codes())


def service_ids() -> st.SearchStrategy[ServiceId]:
    return st.builds(ServiceId, subsystem_ids(), codes())


def gateway_ids() -> st.SearchStrategy[GatewayId]:
    return st.builds(GatewayId, member_ids(), codes())


def person_ids() -> st.SearchStrategy[PersonId]:
    return st.one_of(
        national_codes().map(lambda code: PersonId("IR", code)),
        foreign_national_ids().map(lambda number: PersonId("FN", number)),
    )
