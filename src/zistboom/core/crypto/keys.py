"""Private and public keys of the instance PKI: generation, key files, fingerprints, hashes and raw
signatures.

Two key types are supported, ECDSA P-256 (the default) and Ed25519; RSA and other curves are
refused everywhere. Private keys live in unencrypted PKCS#8 PEM files that only their owner may
read (mode 0600, directory 0700): a key file readable by anybody else is refused on load rather
than silently used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Literal, get_args

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from zistboom.core.errors import ConfigurationError, CryptoError, ValidationError

KeyType = Literal["ec-p256", "ed25519"]
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

KEY_TYPES: tuple[KeyType, ...] = get_args(KeyType)

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def generate_private_key(key_type: KeyType = "ec-p256") -> PrivateKey:
    """A fresh private key of ``key_type`` (ECDSA P-256 unless Ed25519 is asked for)."""
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValidationError(
        f"unsupported key type {key_type!r}; use one of {', '.join(KEY_TYPES)}", field="key_type"
    )


def key_type_of(key: PrivateKey | PublicKey) -> KeyType:
    """The :data:`KeyType` of a private or public key; :class:`CryptoError` for any other key."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ec-p256"
        raise CryptoError(
            f"elliptic curve {key.curve.name} is not accepted; only P-256 (secp256r1) is"
        )
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ed25519"
    raise CryptoError(
        f"{type(key).__name__} keys are not accepted; only ECDSA P-256 and Ed25519 keys are"
    )


def save_private_key(key: PrivateKey, path: Path) -> None:
    """Write ``key`` to ``path`` as unencrypted PKCS#8 PEM readable by its owner only.

    The file never exists with looser permissions: it is created 0600 under a temporary name in
    the same directory and then linked into place, which also refuses to replace an existing key
    even if one appears concurrently. A missing parent directory is created 0700.
    """
    key_type_of(key)
    path = Path(path)
    if path.exists():
        raise ConfigurationError(
            f"refusing to overwrite the existing key file {path}; move it away first if it is "
            "really to be replaced"
        )
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temp_path = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # A hard link publishes the complete file atomically and fails if the target exists.
            os.link(temp_path, path)
        except FileExistsError:
            raise ConfigurationError(
                f"refusing to overwrite the existing key file {path}; move it away first if it "
                "is really to be replaced"
            ) from None
        except OSError:
            # Filesystems without hard links: fall back to an atomic rename.
            if path.exists():
                raise ConfigurationError(
                    f"refusing to overwrite the existing key file {path}"
                ) from None
            os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def load_private_key(path: Path) -> PrivateKey:
    """Read a PKCS#8 PEM private key that only its owner can read.

    :class:`ConfigurationError` if the file is missing, grants any permission to group or others,
    is not a PEM private key, is encrypted, or holds a key type other than P-256 or Ed25519.
    """
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigurationError(f"key file {path} does not exist") from None
    if mode & 0o077:
        raise ConfigurationError(
            f"key file {path} has mode {mode:04o}, which lets group or others access the private "
            f"key; run: chmod 600 {path}"
        )
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigurationError(
            f"key file {path} is encrypted; Zistboom expects an unencrypted PKCS#8 PEM key "
            "protected by file permissions"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"key file {path} is not a PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise ConfigurationError(
            f"key file {path} holds a {type(key).__name__}; only ECDSA P-256 and Ed25519 keys "
            "are supported"
        )
    try:
        key_type_of(key)
    except CryptoError as exc:
        raise ConfigurationError(f"key file {path}: {exc.detail}") from None
    return key


def ensure_private_key(path: Path, key_type: KeyType = "ec-p256") -> PrivateKey:
    """The key in ``path``, created there (0600, ECDSA P-256 by default) if there is none yet.

    A key generated here never leaves the file; an existing file is checked as
    :func:`load_private_key` checks it, and its type must be ``key_type``.
    """
    path = Path(path)
    if not path.exists():
        try:
            save_private_key(generate_private_key(key_type), path)
        except ConfigurationError:
            # Another process created it meanwhile: use that one.
            if not path.exists():
                raise
    key = load_private_key(path)
    if key_type_of(key) != key_type:
        raise ConfigurationError(
            f"key file {path} holds a key of type {key_type_of(key)}, expected {key_type}"
        )
    return key


def public_key_der(key: PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of ``key``."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_fingerprint(key: PublicKey) -> str:
    """Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""
    return sha256_hex(public_key_der(key))


def public_key_pem(key: PublicKey) -> str:
    """The PEM SubjectPublicKeyInfo of ``key``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key_pem(data: str | bytes) -> PublicKey:
    """Parse a PEM SubjectPublicKeyInfo; :class:`ValidationError` unless it is P-256 or Ed25519."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValidationError(f"not a PEM public key: {exc}", field="public_key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise ValidationError(
            f"{type(key).__name__} keys are not accepted; only ECDSA P-256 and Ed25519 keys are",
            field="public_key",
        )
    try:
        key_type_of(key)
    except CryptoError as exc:
        raise ValidationError(exc.detail, field="public_key") from None
    return key


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; :class:`ValidationError` on any other character."""
    body = text.rstrip("=")
    if not _B64URL.fullmatch(body) or len(body) % 4 == 1:
        raise ValidationError("not valid base64url text")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("not valid base64url text") from None


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    """Sign ``data``: ECDSA P-256 with SHA-256 (DER-encoded signature) or Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key_type_of(key)
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise CryptoError(f"cannot sign with a {type(key).__name__}")


def verify_bytes(key: PublicKey, signature: bytes, data: bytes) -> None:
    """Check a :func:`sign_bytes` signature; :class:`CryptoError` if it does not verify."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key_type_of(key)
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            raise CryptoError(f"cannot verify with a {type(key).__name__}")
    except InvalidSignature:
        raise CryptoError(
            f"signature does not verify with the public key {public_key_fingerprint(key)}"
        ) from None
