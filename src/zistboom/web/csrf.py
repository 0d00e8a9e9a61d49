"""CSRF protection of forms: a signed double-submit token.

The page that shows a form gets a token (:meth:`CsrfProtection.token`), puts it in a hidden field
and sets it as a ``SameSite=Strict`` HttpOnly cookie; a POST is accepted only when the field (or
the ``X-CSRF-Token`` header) equals the cookie and the token carries the component's MAC. Another
site can neither read the cookie nor, with SameSite=Strict, make the browser send it; and the MAC
refuses a token planted in the cookie by a neighbouring host (cookie tossing), which a plain
double-submit would accept. A token is 32 random bytes and their HMAC-SHA256 under a secret that
the component keeps in its data folder (:func:`load_or_create_secret`, 0600).

In FastAPI: ``csrf = CsrfProtection(secret)``; a route showing the form calls ``token =
csrf.token(request)`` and ``csrf.set_cookie(request, response, token)``; a route taking it
declares ``dependencies=[Depends(csrf.verify)]``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Final

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from zistboom.core.crypto.keys import b64url_decode, b64url_encode
from zistboom.core.errors import ConfigurationError, CsrfRefusedError, ValidationError

CSRF_COOKIE: Final = "zb_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
SECRET_BYTES: Final = 32
_NONCE_BYTES: Final = 32
_MAC_LABEL: Final = b"zistboom csrf token\x00"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def load_or_create_secret(path: Path) -> bytes:
    """The CSRF secret in ``path``, created there (32 random bytes, mode 0600) on first use.

    A file that group or others may read is refused, as a key file would be.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use that one
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"CSRF secret {path} has mode {mode:04o}, which lets group or others read it; "
            f"run: chmod 600 {path}"
        )
    secret = path.read_bytes()
    if len(secret) < SECRET_BYTES:
        raise ConfigurationError(f"CSRF secret {path} holds {len(secret)} bytes, not 32 or more")
    return secret


class CsrfProtection:
    """Issues and checks the CSRF tokens of one component's forms."""

    def __init__(
        self,
        secret: bytes,
        *,
        cookie_name: str = CSRF_COOKIE,
        field_name: str = CSRF_FIELD,
        header_name: str = CSRF_HEADER,
        secure: bool | None = None,
    ) -> None:
        """``secure`` None marks the cookie Secure exactly when the request came over HTTPS."""
        if len(secret) < SECRET_BYTES:
            raise ConfigurationError(f"a CSRF secret needs {SECRET_BYTES} bytes or more")
        self._secret = secret
        self.cookie_name = cookie_name
        self.field_name = field_name
        self.header_name = header_name
        self._secure = secure

    def _mac(self, nonce: bytes) -> bytes:
        return hmac.new(self._secret, _MAC_LABEL + nonce, hashlib.sha256).digest()

    def new_token(self) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return f"{b64url_encode(nonce)}.{b64url_encode(self._mac(nonce))}"

    def is_genuine(self, token: str) -> bool:
        """Whether ``token`` carries this component's MAC."""
        nonce_text, dot, mac_text = token.partition(".")
        if not dot:
            return False
        try:
            nonce, mac = b64url_decode(nonce_text), b64url_decode(mac_text)
        except ValidationError:
            return False
        return len(nonce) == _NONCE_BYTES and hmac.compare_digest(mac, self._mac(nonce))

    def token(self, request: Request) -> str:
        """The token for a form on this page: the browser's own, if it holds a genuine one."""
        held = request.cookies.get(self.cookie_name)
        return held if held is not None and self.is_genuine(held) else self.new_token()

    def set_cookie(self, request: Request, response: Response, token: str) -> None:
        """Give the browser ``token`` as its cookie (unless it already holds it)."""
        if request.cookies.get(self.cookie_name) == token:
            return
        secure = request.url.scheme == "https" if self._secure is None else self._secure
        response.set_cookie(
            self.cookie_name, token, path="/", samesite="strict", httponly=True, secure=secure
        )

    async def verify(self, request: Request) -> None:
        """Refuse (:class:`CsrfRefusedError`, 403) a state-changing request whose token is
        missing, differs from the cookie, or was not made by this component. Usable as a
        FastAPI dependency."""
        if request.method in _SAFE_METHODS:
            return
        cookie = request.cookies.get(self.cookie_name)
        if cookie is None:
            raise CsrfRefusedError(
                "the form came without its CSRF cookie; open the page again and resend the form "
                "from it (cookies must be allowed for this site)",
                field=self.cookie_name,
            )
        submitted = request.headers.get(self.header_name) or await self._form_token(request)
        if submitted is None:
            raise CsrfRefusedError(
                f"the form came without its CSRF token (field {self.field_name}); resend it "
                "from the page",
                field=self.field_name,
            )
        if not hmac.compare_digest(submitted.encode(), cookie.encode()):
            raise CsrfRefusedError(
                "the form's CSRF token does not match this browser's; open the page again and "
                "resend the form from it",
                field=self.field_name,
            )
        if not self.is_genuine(cookie):
            raise CsrfRefusedError(
                "the form's CSRF token was not issued by this site; open the page again",
                field=self.field_name,
            )

    async def _form_token(self, request: Request) -> str | None:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None
        # Starlette keeps the parsed form on the request, so the route reads it again for free.
        value = (await request.form()).get(self.field_name)
        if value is None or isinstance(value, UploadFile):
            return None
        return value
