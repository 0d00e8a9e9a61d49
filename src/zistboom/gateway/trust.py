"""What a gateway trusts and proves: its own keys and certificates, the verified global
configuration, and the checks on peers' TLS and signing certificates.

Signing certificates that verified once are cached by fingerprint until the configuration
changes (a new version may revoke them) or they expire, so the hot path verifies a chain once.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509 as cx509

from zistboom.core import exchange
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys, x509
from zistboom.core.database import utc_now
from zistboom.core.errors import CryptoError, GlobalConfError, ValidationError

AUTH_KEY = "auth.key"
AUTH_CERT = "auth.pem"
CA_CERT = "ca.pem"


def sign_key_name(member_id: str) -> str:
    return "sign-" + member_id.replace("/", "_")


@dataclass(slots=True)
class SigningIdentity:
    """A hosted member's signing key and certificate, and the header that carries it."""

    member_id: str
    key: keys.PrivateKey
    certificate: cx509.Certificate
    key_id: str = ""
    certificate_header: str = ""

    def __post_init__(self) -> None:
        self.key_id = x509.certificate_fingerprint(self.certificate)
        self.certificate_header = base64.b64encode(x509.certificate_der(self.certificate)).decode()


@dataclass(slots=True)
class GatewayIdentity:
    """The gateway's TLS (authentication) key and certificate and its members' signing keys."""

    gateway_id: str
    auth_key_path: Path
    auth_cert_path: Path
    ca_cert_path: Path
    signers: dict[str, SigningIdentity] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: Path, gateway_id: str) -> GatewayIdentity:
        keys_dir, certs_dir = data_dir / "keys", data_dir / "certs"
        identity = cls(
            gateway_id=gateway_id,
            auth_key_path=keys_dir / AUTH_KEY,
            auth_cert_path=certs_dir / AUTH_CERT,
            ca_cert_path=certs_dir / CA_CERT,
        )
        for cert_path in sorted(certs_dir.glob("sign-*.pem")):
            key_path = keys_dir / (cert_path.stem + ".key")
            certificate = x509.load_certificate(cert_path.read_bytes())
            member_id = x509.certificate_identity(certificate)
            if member_id is None:
                raise ValidationError(f"{cert_path} names no member", field="certificate")
            identity.signers[member_id] = SigningIdentity(
                member_id, keys.load_private_key(key_path), certificate
            )
        return identity

    @property
    def member_id(self) -> str:
        return self.gateway_id.rsplit("/", 1)[0]

    def signer(self, member_id: str) -> SigningIdentity:
        try:
            return self.signers[member_id]
        except KeyError:
            raise exchange.ClientInternalError(
                f"this gateway holds no signing key for {member_id}"
            ) from None

    def auth_certificate(self) -> cx509.Certificate:
        return x509.load_certificate(self.auth_cert_path.read_bytes())

    def server_tls_context(self) -> ssl.SSLContext:
        """TLS 1.3, client certificates required and chained to the instance CA; which gateway
        a certificate may belong to is checked per request against the configuration."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(self.ca_cert_path))
        context.load_cert_chain(str(self.auth_cert_path), str(self.auth_key_path))
        return context

    def information_system_tls_context(self) -> ssl.SSLContext:
        """HTTPS towards information systems: the gateway's certificate, and client
        certificates required; the registered ones are added with :func:`trust_client_certificates`
        (self-signed or a leaf of any CA: partial chains are accepted, the registration is the
        trust decision)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.verify_mode = ssl.CERT_REQUIRED
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        context.load_cert_chain(str(self.auth_cert_path), str(self.auth_key_path))
        return context

    def client_tls_context(self) -> ssl.SSLContext:
        """TLS 1.3 towards peer gateways with our certificate; the peer's certificate must chain
        to the instance CA and is then pinned by fingerprint against the configuration (the
        configuration, not DNS, says which gateway serves a member)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(self.ca_cert_path))
        context.load_cert_chain(str(self.auth_cert_path), str(self.auth_key_path))
        return context

    def reload_certificates(self, data_dir: Path) -> None:
        fresh = GatewayIdentity.load(data_dir, self.gateway_id)
        self.signers = fresh.signers


class Trust:
    """The verified global configuration and the checks that depend on it."""

    def __init__(self, client: gc.GlobalConfClient) -> None:
        self.client = client
        self._ca: cx509.Certificate | None = None
        self._ca_source: str | None = None
        # (keyid, member) -> (configuration version, key, not after, certificate header)
        self._signers: dict[tuple[str, str], tuple[int, keys.PublicKey, datetime, str]] = {}

    def conf(self, outdated: type[exchange.ExchangeError]) -> gc.GlobalConf:
        """The current configuration, or the exchange error that says it has expired."""
        try:
            return self.client.current
        except GlobalConfError as error:
            raise outdated(f"the global configuration cannot be used: {error.detail}") from error

    def ca_certificate(self, conf: gc.GlobalConf) -> cx509.Certificate:
        pem = conf.ca_certificates[0]
        if pem != self._ca_source:
            self._ca = x509.load_certificate(pem)
            self._ca_source = pem
        assert self._ca is not None
        return self._ca

    @staticmethod
    def gateway_allowed(conf: gc.GlobalConf, member_id: str, fingerprint: str) -> bool:
        """Is this TLS certificate one of a gateway the configuration lists for the member?"""
        return any(
            fingerprint in gateway.auth_certificates
            for gateway in conf.gateway_for_member(member_id)
        )

    def signer_key(
        self, conf: gc.GlobalConf, header: str | None, member_id: str, key_id: str | None
    ) -> keys.PublicKey:
        """The public key of a signing certificate carried in ``zb-signer-certificate`` (or in
        a receipt's ``x5c``, ``key_id`` then None), after checking that it chains to the
        instance CA, is unrevoked, valid now and names ``member_id``, and that ``key_id`` is
        its fingerprint; raises CryptoError saying which check failed. Checked once per
        certificate and configuration version."""
        cache_key = (key_id or header or "", member_id)
        cached = self._signers.get(cache_key)
        now = utc_now()
        if (
            cached is not None
            and cached[0] == conf.version
            and cached[2] > now
            and cached[3] == header
        ):
            return cached[1]
        if not header:
            raise CryptoError("the message carries no signer certificate")
        try:
            der = base64.b64decode(header, validate=True)
        except (binascii.Error, ValueError) as error:
            raise CryptoError("the signer certificate header is not base64") from error
        try:
            certificate = x509.load_certificate(der)
        except ValidationError as error:
            raise CryptoError(f"the signer certificate does not parse: {error.detail}") from error
        if key_id is not None and x509.certificate_fingerprint(certificate) != key_id:
            raise CryptoError("the signature's keyid is not the carried certificate's fingerprint")
        x509.verify_certificate(
            certificate,
            self.ca_certificate(conf),
            at=now,
            revoked_serials={int(s, 16) for s in conf.revoked_serials},
            kind="sign",
            identity=member_id,
        )
        public_key = x509.certificate_public_key(certificate)
        self._signers[cache_key] = (
            conf.version,
            public_key,
            certificate.not_valid_after_utc,
            header,
        )
        return public_key


def trust_client_certificates(context: ssl.SSLContext, pems: list[str], loaded: set[str]) -> None:
    """Add newly registered information-system certificates to the client port's trust store
    (removals take effect per request: only registered fingerprints may act as a client)."""
    fresh = [pem for pem in pems if pem not in loaded]
    if fresh:
        context.load_verify_locations(cadata="\n".join(fresh))
        loaded.update(fresh)
