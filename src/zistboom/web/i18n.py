"""Languages of the pages and their message catalogue (``web/messages/{fa,en}.yaml``).

A :class:`Locale` says how a page is written (language, direction, digits); the
:class:`Catalogue` holds every sentence shown to a person, so that no Persian text lives in code.
Both catalogues must have the same keys: loading refuses one with a key the other lacks, and an
unknown key is an error rather than a silently empty string. ``?lang=en`` (or ``fa``) switches
the language and is remembered in a cookie; Persian is the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final, Literal

import yaml
from starlette.requests import Request
from starlette.responses import Response

from zistboom.core.errors import ConfigurationError

LocaleCode = Literal["fa", "en"]

LOCALE_COOKIE: Final = "zb_lang"
LOCALE_PARAMETER: Final = "lang"
_COOKIE_MAX_AGE: Final = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Locale:
    """A page language: its BCP 47 tag, writing direction and whether digits are Persian."""

    code: LocaleCode
    direction: Literal["rtl", "ltr"]
    persian_digits: bool

    @property
    def other(self) -> Locale:
        """The language the switch on a page leads to."""
        return EN if self.code == "fa" else FA


FA: Final = Locale("fa", "rtl", persian_digits=True)
EN: Final = Locale("en", "ltr", persian_digits=False)
LOCALES: Final[Mapping[str, Locale]] = {"fa": FA, "en": EN}
DEFAULT_LOCALE: Final = FA


def locale_named(code: str | None) -> Locale | None:
    """The locale of ``code`` (``fa`` or ``en``, any case), or None for anything else."""
    if code is None:
        return None
    return LOCALES.get(code.strip().lower())


def request_locale(request: Request) -> Locale:
    """The page language of a request: ``?lang=`` first, then the cookie, else Persian."""
    return (
        locale_named(request.query_params.get(LOCALE_PARAMETER))
        or locale_named(request.cookies.get(LOCALE_COOKIE))
        or DEFAULT_LOCALE
    )


def remember_locale(request: Request, response: Response, locale: Locale) -> None:
    """Store a language chosen with ``?lang=`` in the cookie, so later pages keep it."""
    if locale_named(request.query_params.get(LOCALE_PARAMETER)) is None:
        return
    if request.cookies.get(LOCALE_COOKIE) == locale.code:
        return
    response.set_cookie(
        LOCALE_COOKIE,
        locale.code,
        max_age=_COOKIE_MAX_AGE,
        path="/",
        samesite="lax",
        secure=request.url.scheme == "https",
        httponly=True,
    )


class Catalogue:
    """Every message in both languages, by dotted key (``verify.title``)."""

    def __init__(self, messages: Mapping[LocaleCode, Mapping[str, str]]) -> None:
        fa, en = set(messages["fa"]), set(messages["en"])
        if fa != en:
            missing = sorted((fa - en) | (en - fa))
            raise ConfigurationError(
                "the fa and en message catalogues differ: "
                + ", ".join(f"{key} (only in {'fa' if key in fa else 'en'})" for key in missing)
            )
        self._messages = messages

    @classmethod
    def load(cls, package: str = "zistboom.web", folder: str = "messages") -> Catalogue:
        """Read ``fa.yaml`` and ``en.yaml`` from ``folder`` of ``package``."""
        loaded: dict[LocaleCode, dict[str, str]] = {}
        code: LocaleCode
        for code in ("fa", "en"):
            source = resources.files(package).joinpath(folder, f"{code}.yaml")
            try:
                document = yaml.safe_load(source.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as error:
                raise ConfigurationError(
                    f"message catalogue {source} is unreadable: {error}"
                ) from error
            loaded[code] = _flatten(document, str(source))
        return cls(loaded)

    @classmethod
    def merged(cls, sources: Sequence[tuple[str, str]]) -> Catalogue:
        """The catalogues of ``(package, folder)`` ``sources`` together; a later one's message
        overrides an earlier one's of the same key (a component's own tagline over the web
        layer's)."""
        merged: dict[LocaleCode, dict[str, str]] = {"fa": {}, "en": {}}
        for package, folder in sources:
            part = cls.load(package, folder)
            for locale in (FA, EN):
                merged[locale.code].update(
                    {key: part.text(locale, key) for key in sorted(part.keys())}
                )
        return cls(merged)

    def keys(self) -> frozenset[str]:
        return frozenset(self._messages["fa"])

    def text(self, locale: Locale, key: str, /, **values: object) -> str:
        """The message ``key`` in ``locale``, with ``{name}`` placeholders filled from
        ``values``. An unknown key or a missing value is a :class:`ConfigurationError`: a page
        must never show a key or a half-filled sentence."""
        try:
            message = self._messages[locale.code][key]
        except KeyError:
            raise ConfigurationError(f"no message {key!r} in the {locale.code} catalogue") from None
        if not values:
            return message
        try:
            return message.format_map(values)
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigurationError(
                f"message {key!r} ({locale.code}) cannot be filled with {sorted(values)}: {error!r}"
            ) from None


def _flatten(document: object, source: str, prefix: str = "") -> dict[str, str]:
    if not isinstance(document, dict):
        raise ConfigurationError(f"message catalogue {source}: {prefix or 'the top'} is no map")
    flat: dict[str, str] = {}
    for name, value in document.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, source, key + "."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ConfigurationError(f"message catalogue {source}: {key} is not text")
    return flat
