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
# Added by a provider gateway to its calls to a backend that has a secret (ZB-STD-004 §6.3): the
# backend believes the X-Road headers only of a call that carries it. Never passed on from a
# message, in either direction.
GATEWAY_SECRET = "x-zistboom-gateway-secret"  # noqa: S105 (a header name)

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
        GATEWAY_SECRET,
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


# Each error type of ZB-STD-004 §3.7 is one class: its X-Road type, its HTTP status and, as its
# docstring, what it means.

# Errors caused by the consumer information system (HTTP 4xx).


class BadRequest(ExchangeError):
    """Not an r1 request, or one the exchange cannot carry as sent."""

    xroad_type = "Client.BadRequest"
    status = 400


class InvalidClientIdentifier(ExchangeError):
    """Bad or missing X-Road-Client."""

    xroad_type = "Client.InvalidClientIdentifier"
    status = 400


class InvalidServiceIdentifier(ExchangeError):
    """Bad service id in the request target."""

    xroad_type = "Client.InvalidServiceIdentifier"
    status = 400


class UnknownClient(ExchangeError):
    """Not a client this gateway serves, or the caller may not act as it."""

    xroad_type = "Client.UnknownClient"
    status = 403


class UnknownMember(ExchangeError):
    """No such provider in the global configuration."""

    xroad_type = "Client.UnknownMember"
    status = 404


class RequestTooLarge(ExchangeError):
    """The request body is larger than allowed."""

    xroad_type = "Client.RequestTooLarge"
    status = 413


# Errors of the consumer's gateway (client proxy).


class ClientNetworkError(ExchangeError):
    """The provider gateway cannot be reached."""

    xroad_type = "Server.ClientProxy.NetworkError"
    status = 502


class ClientSslAuthenticationFailed(ExchangeError):
    """The provider gateway's TLS certificate is not the one the configuration names."""

    xroad_type = "Server.ClientProxy.SslAuthenticationFailed"
    status = 502


class ClientInvalidSignature(ExchangeError):
    """The provider's answer is signed, but its signature or its binding does not verify."""

    xroad_type = "Server.ClientProxy.InvalidSignature"
    status = 502


class UnsignedAnswer(ExchangeError):
    """The provider's gateway answered without a signature: nothing of it is passed on."""

    xroad_type = "Server.ClientProxy.UnsignedAnswer"
    status = 502


class ClientTimeout(ExchangeError):
    """The provider gateway did not answer in time."""

    xroad_type = "Server.ClientProxy.Timeout"
    status = 504


class OutdatedGlobalConf(ExchangeError):
    """The consumer gateway's global configuration has expired."""

    xroad_type = "Server.ClientProxy.OutdatedGlobalConf"
    status = 503


class TimestampingFailed(ExchangeError):
    """The message log could not be timestamped within the grace period."""

    xroad_type = "Server.ClientProxy.TimestampingFailed"
    status = 503


class ClientInternalError(ExchangeError):
    """A failure of the consumer gateway itself."""

    xroad_type = "Server.ClientProxy.InternalError"
    status = 500


# Errors of the provider's gateway (server proxy).


class AccessDenied(ExchangeError):
    """The client holds no access right for this service, method and path."""

    xroad_type = "Server.ServerProxy.AccessDenied"
    status = 403


class AccreditationRequired(ExchangeError):
    """The access right holds only for a client accredited for a kind of service (ZB-STD-007),
    and the client holds no such accreditation now."""

    xroad_type = "Server.ServerProxy.AccreditationRequired"
    status = 403


class OutdatedTrustList(ExchangeError):
    """The access right needs the trust list, and the provider gateway holds none that is
    before its next update; calls that need no accreditation are not affected."""

    xroad_type = "Server.ServerProxy.OutdatedTrustList"
    status = 503


class UnknownService(ExchangeError):
    """No such service at this gateway."""

    xroad_type = "Server.ServerProxy.UnknownService"
    status = 404


class ServerUnknownMember(ExchangeError):
    """The client (member or subsystem) is not in the global configuration."""

    xroad_type = "Server.ServerProxy.UnknownMember"
    status = 403


class ServerSslAuthenticationFailed(ExchangeError):
    """The calling gateway's TLS certificate is not the one the configuration names."""

    xroad_type = "Server.ServerProxy.SslAuthenticationFailed"
    status = 403


class ServerInvalidSignature(ExchangeError):
    """The request's signature does not verify."""

    xroad_type = "Server.ServerProxy.InvalidSignature"
    status = 400


class InvalidMessage(ExchangeError):
    """A malformed message between gateways."""

    xroad_type = "Server.ServerProxy.InvalidMessage"
    status = 400


class ReplayedMessage(ExchangeError):
    """A signature seen before, outside its freshness window, or older than the gateway's
    start."""

    xroad_type = "Server.ServerProxy.ReplayedMessage"
    status = 409


class ServerRequestTooLarge(ExchangeError):
    """The request body is larger than the service allows."""

    xroad_type = "Server.ServerProxy.RequestTooLarge"
    status = 413


class ServiceFailed(ExchangeError):
    """The provider's backend failed or answered what cannot be carried."""

    xroad_type = "Server.ServerProxy.ServiceFailed"
    status = 502


class ServerTimeout(ExchangeError):
    """The provider's backend did not answer in time."""

    xroad_type = "Server.ServerProxy.Timeout"
    status = 504


class ServerOutdatedGlobalConf(ExchangeError):
    """The provider gateway's global configuration has expired."""

    xroad_type = "Server.ServerProxy.OutdatedGlobalConf"
    status = 503


class ServerTimestampingFailed(ExchangeError):
    """The provider gateway's message log could not be timestamped."""

    xroad_type = "Server.ServerProxy.TimestampingFailed"
    status = 503


class PersonalDataRefused(ExchangeError):
    """A personal-data service needs X-Road-UserId and a purpose."""

    xroad_type = "Server.ServerProxy.PersonalDataRefused"
    status = 400


class ServerInternalError(ExchangeError):
    """A failure of the provider gateway itself."""

    xroad_type = "Server.ServerProxy.InternalError"
    status = 500


# Resource limits of a gateway's listeners (ZB-STD-004 §10.1).
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
