"""X-Road style identifiers and person identifiers: textual, path and JSON forms."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    codes,
    gateway_ids,
    member_ids,
    national_codes,
    person_ids,
    service_ids,
    subsystem_ids,
)
from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import (
    INSTANCES,
    MEMBER_CLASSES,
    GatewayId,
    MemberId,
    PersonId,
    ServiceId,
    SubsystemId,
    identifier_from_dict,
    parse_client_header,
    validate_code,
    validate_member_class,
)
from zistboom.core.persian import to_persian_digits

MEMBER = "IR-DEMO/GOV/10380284790"
SUBSYSTEM = MEMBER + "/population"
SERVICE = SUBSYSTEM + "/getPerson.v1"
CODE_RULE = re.compile(r"[A-Za-z0-9._-]{1,64}")

any_exchange_id = st.one_of(member_ids(), subsystem_ids(), service_ids(), gateway_ids())


def refusal(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- Constants -------------------------------------------------------------------------------


def test_instances_and_member_classes() -> None:
    assert INSTANCES == ("IR", "IR-TEST", "IR-DEMO")
    assert tuple(MEMBER_CLASSES) == ("GOV", "PUB", "COM", "NGO")
    for code, member_class in MEMBER_CLASSES.items():
        assert member_class.code == code
        assert member_class.title_en
        assert member_class.title_fa
    assert "ecosystem" in MEMBER_CLASSES["COM"].title_en
    with pytest.raises(TypeError):
        MEMBER_CLASSES["XYZ"] = MEMBER_CLASSES["GOV"]  # type: ignore[index]


# --- Textual form ----------------------------------------------------------------------------


def test_parse_each_kind() -> None:
    member = MemberId.parse(MEMBER)
    assert member == MemberId("IR-DEMO", "GOV", "10380284790")
    subsystem = SubsystemId.parse(SUBSYSTEM)
    assert subsystem == SubsystemId(member, "population")
    service = ServiceId.parse(SERVICE)
    assert service == ServiceId(subsystem, "getPerson.v1")
    assert service.member == member
    gateway = GatewayId.parse(MEMBER + "/gw-1")
    assert gateway == GatewayId(member, "gw-1")
    assert (str(member), str(subsystem), str(service), str(gateway)) == (
        MEMBER,
        SUBSYSTEM,
        SERVICE,
        MEMBER + "/gw-1",
    )


def test_unknown_member_class_message() -> None:
    error = refusal(MemberId.parse, "IR-DEMO/XYZ/10380284790")
    assert error.detail == (
        "unknown member class 'XYZ' in 'IR-DEMO/XYZ/10380284790' "
        "(expected one of GOV, PUB, COM, NGO)"
    )
    assert error.field == "member_id"


def test_wrong_number_of_segments_message() -> None:
    error = refusal(SubsystemId.parse, MEMBER)
    assert error.detail == (
        "wrong number of segments: a subsystem id has 4 (INSTANCE/CLASS/CODE/SUBSYSTEM), "
        f"got 3 in '{MEMBER}'"
    )
    assert error.field == "subsystem_id"
    assert "a service id has 5" in refusal(ServiceId.parse, SUBSYSTEM).detail
    assert "a member id has 3" in refusal(MemberId.parse, SUBSYSTEM).detail
    assert "a gateway id has 4" in refusal(GatewayId.parse, SERVICE).detail


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("XX/GOV/10380284790/s", "unknown instance 'XX' in 'XX/GOV/10380284790/s' (expected one"),
        ("ir-demo/GOV/10380284790/s", "unknown instance 'ir-demo'"),
        ("IR/gov/10380284790/s", "unknown member class 'gov'"),
        ("IR/GOV/1038028479/s", "member code '1038028479' in 'IR/GOV/1038028479/s' must be"),
        ("IR/GOV/۱۰۳۸۰۲۸۴۷۹۰/s", "must be an 11-digit legal-entity ID written with ASCII"),
        ("IR/GOV/10380284791/s", "wrong check digit: expected 0, got 1"),
        ("IR/GOV/10380284790/", "subsystem code is empty in 'IR/GOV/10380284790/'"),
        ("IR/GOV/10380284790/.", "subsystem code '.' in 'IR/GOV/10380284790/.' is refused"),
        ("IR/GOV/10380284790/..", "'.' and '..' are path steps, not codes"),
        ("IR/GOV/10380284790/a b", "contains ' '; only A-Z, a-z, 0-9, '.', '_' and '-' are"),
        ("IR/GOV/10380284790/a%2Fb", "contains '%'"),
        ("IR/GOV/10380284790/سامانه", "contains 'س'"),
        ("IR/GOV/10380284790/" + "a" * 65, "has 65 characters; at most 64 are allowed"),
        (" IR/GOV/10380284790/s", "unknown instance ' IR'"),
    ],
)
def test_subsystem_refusals(text: str, message: str) -> None:
    error = refusal(SubsystemId.parse, text)
    assert message in error.detail
    assert error.field == "subsystem_id"


def test_code_labels_name_the_segment() -> None:
    assert "service code '..'" in refusal(ServiceId.parse, SUBSYSTEM + "/..").detail
    assert "subsystem code is empty" in refusal(ServiceId.parse, MEMBER + "//x").detail
    assert "gateway code 'a:b'" in refusal(GatewayId.parse, MEMBER + "/a:b").detail


def test_field_is_passed_through() -> None:
    assert refusal(ServiceId.parse, "IR", field="service").field == "service"
    assert refusal(MemberId.parse_path, "IR/X/1", field="provider").field == "provider"


def test_oversized_input_is_not_echoed_whole() -> None:
    error = refusal(SubsystemId.parse, f"{MEMBER}/{'a' * 10_000}")
    assert "has 10000 characters; at most 64 are allowed" in error.detail
    assert len(error.detail) < 400


def test_64_character_code_is_accepted() -> None:
    code = "a" * 64
    assert SubsystemId.parse(f"{MEMBER}/{code}").subsystem_code == code


def test_constructor_validates() -> None:
    error = refusal(MemberId, "IR-DEMO", "XYZ", "10380284790")
    assert error.field == "member_class"
    assert "unknown member class 'XYZ' (expected" in error.detail
    assert refusal(MemberId, "IR", "GOV", "10380284791").field == "member_code"
    assert refusal(MemberId, "EE", "GOV", "10380284790").field == "instance"
    member = MemberId.parse(MEMBER)
    assert refusal(SubsystemId, member, "..").field == "subsystem_code"
    assert refusal(GatewayId, member, "").field == "gateway_code"
    subsystem = SubsystemId(member, "s")
    assert refusal(ServiceId, subsystem, "a/b").field == "service_code"


def test_single_segment_validators() -> None:
    assert validate_member_class("NGO") == "NGO"
    error = refusal(validate_member_class, "ngo")
    assert (error.detail, error.field) == (
        "unknown member class 'ngo' (expected one of GOV, PUB, COM, NGO)",
        "member_class",
    )
    assert validate_code("getPerson.v1") == "getPerson.v1"
    error = refusal(validate_code, "..", field="subsystem_code", label="subsystem code")
    assert error.detail == "subsystem code '..' is refused: '.' and '..' are path steps, not codes"
    assert error.field == "subsystem_code"
    assert refusal(validate_code, "a/b").field == "code"


@given(any_exchange_id)
def test_textual_round_trip(identifier: MemberId | SubsystemId | ServiceId | GatewayId) -> None:
    assert type(identifier).parse(str(identifier)) == identifier


# --- Path form -------------------------------------------------------------------------------


def test_path_form_decodes_each_segment() -> None:
    expected = SubsystemId.parse(SUBSYSTEM)
    assert SubsystemId.parse_path("IR-DEMO/GOV/10380284790/%70opulation") == expected
    assert SubsystemId.parse_path("IR-DEMO/GOV/%31%30380284790/population") == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (MEMBER + "/a%2Fb", "subsystem code 'a/b' in 'IR-DEMO/GOV/10380284790/a%2Fb' contains '/'"),
        (MEMBER + "/a%2fb", "contains '/'"),
        (MEMBER + "/%2E%2E", "subsystem code '..'"),
        (MEMBER + "/%2e", "subsystem code '.'"),
        (MEMBER + "/a%252Fb", "subsystem code 'a%2Fb'"),  # decoded once only
        (MEMBER + "/a%20b", "contains ' '"),
        (MEMBER + "/a%00b", "contains '\\x00'"),
        (MEMBER + "/%FF", "percent-encoded bytes that are not UTF-8"),
        ("IR-DEMO%2FGOV%2F10380284790%2Fs", "wrong number of segments"),
    ],
)
def test_path_refusals(path: str, message: str) -> None:
    error = refusal(SubsystemId.parse_path, path)
    assert message in error.detail
    assert error.field == "subsystem_id"


@given(any_exchange_id)
def test_path_round_trip(identifier: MemberId | SubsystemId | ServiceId | GatewayId) -> None:
    path = identifier.to_path()
    assert path == str(identifier)  # the alphabet is unreserved: encoding changes nothing
    assert type(identifier).parse_path(path) == identifier


@given(member_ids(), st.text(max_size=70))
def test_path_segment_accepted_exactly_when_it_follows_the_code_rule(
    member: MemberId, code: str
) -> None:
    path = member.to_path() + "/" + quote(code, safe="")
    follows_rule = bool(CODE_RULE.fullmatch(code)) and code not in (".", "..")
    if follows_rule:
        assert SubsystemId.parse_path(path) == SubsystemId(member, code)
    else:
        with pytest.raises(ValidationError):
            SubsystemId.parse_path(path)


@given(codes())
def test_codes_strategy_follows_the_rule(code: str) -> None:
    assert CODE_RULE.fullmatch(code)
    assert code not in (".", "..")


# --- X-Road-Client header --------------------------------------------------------------------


def test_client_header() -> None:
    assert parse_client_header(SUBSYSTEM) == SubsystemId.parse(SUBSYSTEM)
    assert parse_client_header(MEMBER) == MemberId.parse(MEMBER)
    assert parse_client_header(" \t" + SUBSYSTEM + " ") == SubsystemId.parse(SUBSYSTEM)
    assert parse_client_header(MEMBER + "/%70opulation") == SubsystemId.parse(SUBSYSTEM)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (SERVICE, "the X-Road-Client header takes 3 (INSTANCE/CLASS/MEMBER) or 4"),
        ("IR/GOV", "got 2"),
        ("", "got 1"),
        (MEMBER + "/a%2Fb", "contains '/'"),
        ("IR-DEMO/XYZ/10380284790", "unknown member class 'XYZ'"),
    ],
)
def test_client_header_refusals(value: str, message: str) -> None:
    error = refusal(parse_client_header, value)
    assert message in error.detail
    assert error.field == "X-Road-Client"


# --- Memoised parsing ------------------------------------------------------------------------


def test_parsing_again_gives_the_same_frozen_value() -> None:
    assert SubsystemId.parse(SUBSYSTEM) is SubsystemId.parse(SUBSYSTEM, field="subsystem_id")
    assert ServiceId.parse_path(SERVICE) == ServiceId.parse(SERVICE)
    assert parse_client_header(SUBSYSTEM) is parse_client_header(SUBSYSTEM)


def test_one_text_keeps_its_meaning_per_kind_and_form() -> None:
    # Shared caches must not carry a result over to another kind or another form.
    encoded = MEMBER + "/%70opulation"
    assert SubsystemId.parse_path(encoded) == SubsystemId.parse(SUBSYSTEM)
    assert "contains '%'" in refusal(SubsystemId.parse, encoded).detail
    gateway = GatewayId.parse(SUBSYSTEM)
    assert isinstance(gateway, GatewayId)
    assert isinstance(SubsystemId.parse(SUBSYSTEM), SubsystemId)
    assert gateway.segments() == SubsystemId.parse(SUBSYSTEM).segments()


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (SubsystemId.parse, MEMBER + "/bad code"),
        (ServiceId.parse_path, SUBSYSTEM + "/a%2Fb"),
        (parse_client_header, "IR-DEMO/XYZ/10380284790"),
    ],
)
def test_a_refusal_is_raised_each_time_with_its_own_field(call: Any, text: str) -> None:
    first = refusal(call, text, field="first")
    again = refusal(call, text, field="first")
    other = refusal(call, text, field="other")
    assert first is not again
    assert (first.detail, first.field) == (again.detail, again.field)
    assert (first.field, other.field) == ("first", "other")


# --- JSON form -------------------------------------------------------------------------------


def test_json_shapes() -> None:
    member = {
        "object_type": "MEMBER",
        "xroad_instance": "IR-DEMO",
        "member_class": "GOV",
        "member_code": "10380284790",
    }
    assert MemberId.parse(MEMBER).to_dict() == member
    subsystem = {**member, "object_type": "SUBSYSTEM", "subsystem_code": "population"}
    assert SubsystemId.parse(SUBSYSTEM).to_dict() == subsystem
    service = {**subsystem, "object_type": "SERVICE", "service_code": "getPerson.v1"}
    assert ServiceId.parse(SERVICE).to_dict() == service
    server = {**member, "object_type": "SERVER", "server_code": "gw-1"}
    assert GatewayId.parse(MEMBER + "/gw-1").to_dict() == server
    for data, text in [(member, MEMBER), (subsystem, SUBSYSTEM), (service, SERVICE)]:
        assert str(identifier_from_dict(data)) == text
    assert identifier_from_dict(server) == GatewayId.parse(MEMBER + "/gw-1")


@given(any_exchange_id)
def test_json_round_trip(identifier: MemberId | SubsystemId | ServiceId | GatewayId) -> None:
    data = identifier.to_dict()
    assert type(identifier).from_dict(data) == identifier
    assert identifier_from_dict(data) == identifier


def test_service_version_null_is_tolerated_but_a_value_is_not() -> None:
    data: dict[str, object] = {**ServiceId.parse(SERVICE).to_dict(), "service_version": None}
    assert ServiceId.from_dict(data) == ServiceId.parse(SERVICE)
    data["service_version"] = "v1"
    assert (
        "unknown keys for a service id: service_version"
        in refusal(ServiceId.from_dict, data).detail
    )


def test_json_refusals() -> None:
    good = SubsystemId.parse(SUBSYSTEM).to_dict()

    error = refusal(SubsystemId.from_dict, {**good, "object_type": "MEMBER"}, field="client")
    assert error.detail == "object_type 'MEMBER' does not fit a subsystem id: expected 'SUBSYSTEM'"
    assert error.field == "client.object_type"

    missing = {key: value for key, value in good.items() if key != "member_code"}
    error = refusal(SubsystemId.from_dict, missing, field="client")
    assert (error.detail, error.field) == ("member_code is missing", "client.member_code")

    error = refusal(SubsystemId.from_dict, {**good, "member_code": 10380284790}, field="client")
    assert error.detail == "member_code must be a string, got 10380284790"
    assert error.field == "client.member_code"

    error = refusal(SubsystemId.from_dict, {**good, "extra": "x", "alpha": 1})
    assert error.detail.startswith("unknown keys for a subsystem id: alpha, extra (allowed:")
    assert error.field == "subsystem_id"

    error = refusal(SubsystemId.from_dict, {**good, "member_class": "XYZ"}, field="client")
    assert error.detail == "unknown member class 'XYZ' (expected one of GOV, PUB, COM, NGO)"
    assert error.field == "client.member_class"

    error = refusal(SubsystemId.from_dict, {**good, "subsystem_code": ".."}, field="client")
    assert error.field == "client.subsystem_code"

    error = refusal(SubsystemId.from_dict, ["not", "an", "object"])
    assert error.detail == "a subsystem id must be a JSON object, got list"

    error = refusal(identifier_from_dict, {**good, "object_type": "CLIENT"})
    assert error.detail == (
        "unknown object_type 'CLIENT' (expected one of MEMBER, SUBSYSTEM, SERVICE, SERVER)"
    )
    assert error.field == "id.object_type"


# --- Person identifiers ----------------------------------------------------------------------


def test_person_ids() -> None:
    person = PersonId.parse("IR0499370899")
    assert person == PersonId("IR", "0499370899")
    assert str(person) == "IR0499370899"
    foreigner = PersonId.parse("FN123456789012")
    assert foreigner == PersonId("FN", "123456789012")
    assert str(foreigner) == "FN123456789012"


def test_person_id_builders_normalise_typed_input() -> None:
    assert PersonId.national(" ۴۹۹۳۷۰۸۹۹ ") == PersonId("IR", "0499370899")
    assert PersonId.foreign("۰۰۱۲۳۴۵۶") == PersonId("FN", "00123456")
    assert refusal(PersonId.national, "0499370898").field == "national_code"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0499370899", "person id '0499370899' must start with IR (national code) or FN"),
        ("ir0499370899", "must start with IR"),
        ("IR499370899", "national code '499370899' in 'IR499370899' must be 10 ASCII digits"),
        ("IR" + to_persian_digits("0499370899"), "must be 10 ASCII digits"),
        ("IR0499370898", "wrong check digit: expected 9, got 8 in 'IR0499370898'"),
        ("IR1111111111", "all ten digits are equal"),
        ("IR 0499370899", "must be 10 ASCII digits"),
        ("FN12345", "must have 6 to 16 digits, got 5 digits"),
        ("FN12345X", "foreign national ID '12345X' in 'FN12345X' must be ASCII digits"),
        ("FN", "must be ASCII digits"),
        ("", "must start with IR"),
    ],
)
def test_person_id_refusals(text: str, message: str) -> None:
    error = refusal(PersonId.parse, text)
    assert message in error.detail
    assert error.field == "person_id"


def test_person_id_constructor_validates() -> None:
    assert "must be IR or FN" in refusal(PersonId, "XX", "0499370899").detail
    assert "wrong check digit" in refusal(PersonId, "IR", "0499370898").detail


@given(person_ids())
def test_person_round_trip(person: PersonId) -> None:
    assert PersonId.parse(str(person)) == person


@given(national_codes())
def test_national_person_ids_accept_every_digit_form(code: str) -> None:
    assert PersonId.national(to_persian_digits(code)) == PersonId.parse("IR" + code)
