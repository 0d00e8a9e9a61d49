"""The tracker's filter as the person types it in the page's GET form: the kind, the reading
member, text of the purpose, and the first and last days (Jalali ``1404/05/15`` or Gregorian
``2025-08-06``: the year tells which; Persian digits welcome). Days are Tehran's: the period
runs from the first day's Tehran midnight to the midnight after the last day. A value that
cannot be read is named by its field, with the message key the page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from zistboom.core.errors import ValidationError
from zistboom.core.persian import from_jalali, normalize_digits
from zistboom.web.formatting import TEHRAN
from zistboom.window.tracker.entries import EntryKind
from zistboom.window.tracker.merge import TrackerFilter

_DAY: Final = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
JALALI_BEFORE: Final = 1700
"""A year below this is a Jalali year (1404 is 2025): the two calendars' years never meet."""


@dataclass(frozen=True, slots=True)
class FilterForm:
    """The filter read from the form, with the values as typed (shown back) and the message
    keys of the fields that could not be read."""

    chosen: TrackerFilter
    entered: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def parse_day(text: str, *, name: str) -> date:
    """A Jalali or Gregorian day, ``YYYY/MM/DD`` or ``YYYY-MM-DD``."""
    match = _DAY.fullmatch(normalize_digits(text.strip()))
    if match is None:
        raise ValidationError(f"{text!r} is not a day: write it as 1404/05/15", field=name)
    year, month, day = int(match[1]), int(match[3]), int(match[4])
    if year < JALALI_BEFORE:
        return from_jalali(year, month, day, field=name)
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValidationError(f"{text!r} is not a day: {error}", field=name) from error


def tehran_midnight(day: date) -> datetime:
    """The moment ``day`` begins in Tehran, in UTC."""
    return datetime.combine(day, time(), tzinfo=TEHRAN).astimezone(UTC)


def read_filter(
    *, kind: str = "", reader: str = "", purpose: str = "", since: str = "", until: str = ""
) -> FilterForm:
    """The filter of the form's values (each empty for "any")."""
    entered = {"kind": kind, "reader": reader, "purpose": purpose, "from": since, "to": until}
    errors: dict[str, str] = {}
    chosen_kind = None
    if kind:
        try:
            chosen_kind = EntryKind(kind)
        except ValueError:
            errors["kind"] = "tracker.error.kind"
    first = last = None
    for name, text in (("from", since), ("to", until)):
        if not text.strip():
            continue
        try:
            day = parse_day(text, name=name)
        except ValidationError:
            errors[name] = "tracker.error.day"
            continue
        if name == "from":
            first = day
        else:
            last = day
    if first is not None and last is not None and last < first:
        errors["to"] = "tracker.error.order"
    chosen = TrackerFilter(
        kind=chosen_kind,
        reader_member=reader.strip() or None,
        purpose=purpose.strip(),
        since=tehran_midnight(first) if first is not None else None,
        until=tehran_midnight(last + timedelta(days=1)) if last is not None else None,
    )
    return FilterForm(chosen, entered, errors)
