"""One exception family for the whole platform, and its mapping to RFC 9457 problem details.

Every error a component raises on purpose is a :class:`ZistboomError`. Routes never build error
responses by hand: the component's error handler turns the exception into a problem-details
document (``application/problem+json``) in one place.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://zistboom.ir/problems/"


class ZistboomError(Exception):
    """Base of every deliberate error: ``code`` names the problem type, ``status`` the HTTP one."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Render as an RFC 9457 problem-details object."""
        problem: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            problem["instance"] = instance
        if self.field is not None:
            problem["errors"] = [{"field": self.field, "message": self.detail}]
        problem.update(self.extra)
        return problem


class ValidationError(ZistboomError):
    """Input that does not meet its rules; ``field`` names the offending input."""

    status = 422
    code = "validation-error"
    title = "Invalid input"


class MalformedRequestError(ValidationError):
    """Input refused with 400 where a protocol asks for it rather than 422 (the trust-registry
    queries of TRQP v2); ``field`` names the offending input."""

    status = 400
    code = "malformed-request"
    title = "Malformed request"


class UnsupportedMediaError(ZistboomError):
    """A request body of a media type the resource does not take (the detail names the one it
    does)."""

    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class NotFoundError(ZistboomError):
    status = 404
    code = "not-found"
    title = "Not found"


class ConflictError(ZistboomError):
    status = 409
    code = "conflict"
    title = "Conflict"


class AuthenticationError(ZistboomError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDeniedError(ZistboomError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class CsrfRefusedError(PermissionDeniedError):
    """A form sent without the CSRF token of its page, or with a forged one (web/csrf.py)."""

    code = "csrf-refused"
    title = "Form refused"


class MethodNotAllowedError(ZistboomError):
    """A method the resource does not take; ``allow`` lists those it does (the Allow header)."""

    status = 405
    code = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, detail: str, *, allow: tuple[str, ...]) -> None:
        super().__init__(detail)
        self.allow = allow


class CryptoError(ZistboomError):
    """A signature, certificate or key that does not verify."""

    status = 400
    code = "crypto-error"
    title = "Cryptographic check failed"


class ConfigurationError(ZistboomError):
    """Settings or on-disk state that make the component unable to run."""

    status = 500
    code = "configuration-error"
    title = "Configuration error"


class DeliveryError(ZistboomError):
    """A message to a person (an e-mail, an SMS) that could not be handed to its server; the
    detail names the channel and the server, ``permanent`` whether trying again can help (the
    server refused it for good, 5xx) or not (down, busy, 4xx)."""

    status = 502
    code = "delivery-failed"
    title = "Message not sent"

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent


class GlobalConfError(ZistboomError):
    """A global configuration document that must not be used (tampered, older, expired, ...)."""

    status = 502
    code = "global-conf-error"
    title = "Global configuration refused"


class TrustListError(ZistboomError):
    """A trust list that must not be used (tampered, older, past its next update, ...)."""

    status = 502
    code = "trust-list-error"
    title = "Trust list refused"


# --- verifiable documents (ZB-STD-008) ------------------------------------------------------------


class DocumentError(ZistboomError):
    """A document, or a part of one (signature, certificate, timestamp token, status list), that
    does not hold; the detail says which part and why."""

    status = 422
    code = "document-invalid"
    title = "Document not valid"


class TimestampUnavailableError(ZistboomError):
    """Central's timestamping authority could not be reached or gave no usable answer, so no
    trusted time could be obtained; nothing was issued. Try again later."""

    status = 502
    code = "timestamp-unavailable"
    title = "Timestamping authority unavailable"


class IssuerNotAccreditedError(PermissionDeniedError):
    """The issuer holds no accreditation to issue the document type at the time that counts;
    the detail names the missing requirement (``ecosystem:kind`` and level)."""

    code = "issuer-not-accredited"
    title = "Issuer not accredited for this document type"


class ActForPersonRefusedError(PermissionDeniedError):
    """Acting for a person (``X-Road-UserId``) from a subsystem that is not the single window's,
    or for a holder the caller may not act for."""

    code = "act-for-person-refused"
    title = "Not allowed to act for this person"


class ShareRevokedError(PermissionDeniedError):
    """The holder revoked the share: the recipient may no longer fetch the document."""

    code = "share-revoked"
    title = "Share revoked"


class ShareExpiredError(ZistboomError):
    """The share's period has ended: the recipient may no longer fetch the document."""

    status = 410
    code = "share-expired"
    title = "Share expired"
