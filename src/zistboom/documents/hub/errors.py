"""The hub's own refusals, each its own problem type (RFC 9457 through ``core/problems.py``);
those the documents share (acting for a person, expired and revoked shares) are in
``core/errors.py``."""

from __future__ import annotations

from zistboom.core.errors import (
    ConflictError,
    PermissionDeniedError,
    ValidationError,
    ZistboomError,
)


class NotTheIssuer(PermissionDeniedError):
    """A member deposited a document, or published a status list, that another member signed."""

    code = "not-the-issuer"
    title = "Not the issuer"


class DepositRefused(ValidationError):
    """A deposited document that does not verify; ``checks`` names each failing check."""

    code = "deposit-refused"
    title = "Document refused"


class StatusListRefused(ValidationError):
    """A status list credential that is not what its URL names, or does not verify."""

    code = "status-list-refused"
    title = "Status list refused"


class OlderStatusList(ConflictError):
    """A status list older than (or as old as, but different from) the one the hub holds."""

    code = "status-list-older"
    title = "Older status list"


class NotTheRecipient(PermissionDeniedError):
    """A member asked for a shared document that was shared with another member."""

    code = "not-the-recipient"
    title = "Not the share's recipient"


class UnknownPullLink(ZistboomError):
    """A pull link this hub did not give out (or a URL that is not one of its pull links)."""

    status = 404
    code = "unknown-pull-link"
    title = "Unknown pull link"
