"""The exchange protocol's shared contract: X-Road ``r1`` header names, the exchange's error
types and their HTTP statuses, the headers a gateway must not pass on, and the request hash.

Gateways (client and server side) and verifiers of evidence import this module; it defines
what ZB-STD-004 (the exchange protocol profile) says on the wire.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, ClassVar

import orjson

from zistboom.core.errors import ZistboomError

PROTOCOL_VERSION = "r1"

# Headers an information system sends or receives (lower case, as HTTP/2 and our code use them).
X_ROAD_CLIENT = "x-road-client"
X_ROAD_ID = "x-road-id"
X_ROAD_USER_ID = "x-road-userid"
X_ROAD_ISSUE = "x-road-issue"
X_ROAD_REPRESENTED_PARTY = "x-road-represented-party"
X_ROAD_SERVICE = "x-road-service"
X_ROAD_REQUEST_ID = "x-road-request-id"
X_ROAD_REQUEST_HASH = "x-road-request-hash"
X_ROAD_ERROR = "x-road-error"
X_ROAD_SECURITY_SERVER = "x-road-security-server"
# Optional: the purpose of a personal-data query (a Zistboom extension, see ZB-STD-004).
X_ROAD_PURPOSE = "x-road-purpose"

# Between gateways only: the signature and the signer's certificate.
SIGNATURE = "signature"
SIGNATURE_INPUT = "signature-input"
CONTENT_DIGEST = "content-digest"
SIGNER_CERTIFICATE = "zb-signer-certificate"
SIGNATURE_LABEL = "zb"

# The X-Road headers of a request that the client gateway signs when present, in this order.
SIGNED_REQUEST_HEADERS = (
    X_ROAD_CLIENT,
    X_ROAD_ID,
    X_ROAD_USER_ID,
    X_ROAD_ISSUE,
    X_ROAD_REPRESENTED_PARTY,
    X_ROAD_PURPOSE,
)

# Hop-by-hop headers (RFC 9110 §7.6.1) and headers that would leak the origin host; never passed.
FILTERED_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "user-agent",
        "server",
        "content-length",
        "expect",
        "date",
    }
)
# Headers that only the gateways may set; whatever an information system sends is dropped.
GATEWAY_HEADERS = frozenset(
    {
        SIGNATURE,
        SIGNATURE_INPUT,
        CONTENT_DIGEST,
        SIGNER_CERTIFICATE,
        X_ROAD_REQUEST_HASH,
        X_ROAD_REQUEST_ID,
        X_ROAD_ERROR,
        X_ROAD_SERVICE,
    }
)


def request_hash(signature_base: bytes, body: bytes) -> str:
    """``X-Road-Request-Hash``: base64 of SHA-512(SHA-512(header part) || SHA-512(body)), or of
    SHA-512(header part) when there is no body. The header part is the request's RFC 9421
    signature base, which covers the method, path, query, X-Road headers and Content-Digest."""
    header_digest = hashlib.sha512(signature_base).digest()
    if not body:
        return base64.b64encode(header_digest).decode()
    combined = header_digest + hashlib.sha512(body).digest()
    return base64.b64encode(hashlib.sha512(combined).digest()).decode()


class ExchangeError(ZistboomError):
    """An error raised by the exchange itself, answered with ``X-Road-Error`` and a
    ``{type, message, detail}`` body. ``detail`` carries the message id for support."""

    xroad_type: ClassVar[str] = "Server.ClientProxy.InternalError"
    status = 500
    code = "exchange-error"
    title = "Exchange error"

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_detail = detail

    def body(self, message_id: str | None = None) -> bytes:
        payload: dict[str, Any] = {
            "type": self.xroad_type,
            "message": self.message,
            "detail": self.message_detail or message_id or "",
        }
        return orjson.dumps(payload)


def _error(name: str, xroad_type: str, status: int, doc: str) -> type[ExchangeError]:
    return type(
        name, (ExchangeError,), {"xroad_type": xroad_type, "status": status, "__doc__": doc}
    )


# Errors caused by the consumer information system (HTTP 4xx).
BadRequest = _error("BadRequest", "Client.BadRequest", 400, "Not an r1 request.")
InvalidClientIdentifier = _error(
    "InvalidClientIdentifier", "Client.InvalidClientIdentifier", 400, "Bad X-Road-Client."
)
InvalidServiceIdentifier = _error(
    "InvalidServiceIdentifier", "Client.InvalidServiceIdentifier", 400, "Bad service id."
)
UnknownClient = _error(
    "UnknownClient", "Client.UnknownClient", 403, "Not a client this gateway serves."
)
UnknownMember = _error(
    "UnknownMember", "Client.UnknownMember", 404, "No such provider in the configuration."
)
RequestTooLarge = _error("RequestTooLarge", "Client.RequestTooLarge", 413, "Body too large.")
# Errors of the consumer's gateway (client proxy).
ClientNetworkError = _error(
    "ClientNetworkError", "Server.ClientProxy.NetworkError", 502, "Provider gateway unreachable."
)
ClientSslAuthenticationFailed = _error(
    "ClientSslAuthenticationFailed",
    "Server.ClientProxy.SslAuthenticationFailed",
    502,
    "The provider gateway's TLS certificate is not the one the configuration names.",
)
ClientInvalidSignature = _error(
    "ClientInvalidSignature",
    "Server.ClientProxy.InvalidSignature",
    502,
    "The response's signature does not verify.",
)
ClientTimeout = _error("ClientTimeout", "Server.ClientProxy.Timeout", 504, "No answer in time.")
OutdatedGlobalConf = _error(
    "OutdatedGlobalConf",
    "Server.ClientProxy.OutdatedGlobalConf",
    503,
    "The global configuration has expired.",
)
TimestampingFailed = _error(
    "TimestampingFailed",
    "Server.ClientProxy.TimestampingFailed",
    503,
    "The message log could not be timestamped within the grace period.",
)
ClientInternalError = _error(
    "ClientInternalError", "Server.ClientProxy.InternalError", 500, "Consumer gateway failure."
)
# Errors of the provider's gateway (server proxy).
AccessDenied = _error("AccessDenied", "Server.ServerProxy.AccessDenied", 403, "No access right.")
UnknownService = _error(
    "UnknownService", "Server.ServerProxy.UnknownService", 404, "No such service here."
)
ServerSslAuthenticationFailed = _error(
    "ServerSslAuthenticationFailed",
    "Server.ServerProxy.SslAuthenticationFailed",
    403,
    "The calling gateway's TLS certificate is not the one the configuration names.",
)
ServerInvalidSignature = _error(
    "ServerInvalidSignature",
    "Server.ServerProxy.InvalidSignature",
    400,
    "The request's signature does not verify.",
)
InvalidMessage = _error(
    "InvalidMessage", "Server.ServerProxy.InvalidMessage", 400, "Malformed gateway message."
)
ReplayedMessage = _error(
    "ReplayedMessage", "Server.ServerProxy.ReplayedMessage", 409, "Seen before or too old."
)
ServerRequestTooLarge = _error(
    "ServerRequestTooLarge", "Server.ServerProxy.RequestTooLarge", 413, "Body too large."
)
ServiceFailed = _error(
    "ServiceFailed", "Server.ServerProxy.ServiceFailed", 502, "The provider's backend failed."
)
ServerTimeout = _error(
    "ServerTimeout", "Server.ServerProxy.Timeout", 504, "The provider's backend did not answer."
)
ServerOutdatedGlobalConf = _error(
    "ServerOutdatedGlobalConf",
    "Server.ServerProxy.OutdatedGlobalConf",
    503,
    "The provider gateway's global configuration has expired.",
)
ServerTimestampingFailed = _error(
    "ServerTimestampingFailed",
    "Server.ServerProxy.TimestampingFailed",
    503,
    "The provider gateway's message log could not be timestamped.",
)
PersonalDataRefused = _error(
    "PersonalDataRefused",
    "Server.ServerProxy.PersonalDataRefused",
    400,
    "A personal-data service needs X-Road-UserId and a purpose.",
)
ServerInternalError = _error(
    "ServerInternalError", "Server.ServerProxy.InternalError", 500, "Provider gateway failure."
)


# Resource limits of a gateway's listeners (ZB-STD-004, limits).
class RequestTimeout(ExchangeError):
    """The information system did not send the whole body within the body timeout."""

    xroad_type = "Client.RequestTimeout"
    status = 408


class ClientBusy(ExchangeError):
    """The consumer gateway's memory budget for bodies in flight is spent; retry later."""

    xroad_type = "Server.ClientProxy.Busy"
    status = 503


class ServerRequestTimeout(ExchangeError):
    """The calling gateway did not send the whole body within the body timeout."""

    xroad_type = "Server.ServerProxy.RequestTimeout"
    status = 408


class ServerBusy(ExchangeError):
    """The provider gateway's memory budget for bodies in flight is spent; retry later."""

    xroad_type = "Server.ServerProxy.Busy"
    status = 503
