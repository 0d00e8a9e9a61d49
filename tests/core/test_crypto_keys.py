"""Key files, fingerprints, hashes, base64url and raw signatures, cross-checked with openssl."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zistboom.core.crypto.keys import (
    KeyType,
    b64url_decode,
    b64url_encode,
    ensure_private_key,
    generate_private_key,
    load_private_key,
    load_public_key_pem,
    public_key_der,
    public_key_fingerprint,
    public_key_pem,
    save_private_key,
    sha256,
    sha256_hex,
    sha512,
    sign_bytes,
    verify_bytes,
)
from zistboom.core.errors import ConfigurationError, CryptoError, ValidationError

OPENSSL = "/usr/bin/openssl"
KEY_TYPES: list[KeyType] = ["ec-p256", "ed25519"]


def openssl(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_save_and_load_round_trip(tmp_path: Path, key_type: KeyType) -> None:
    key = generate_private_key(key_type)
    path = tmp_path / "keys" / "nested" / "private.pem"
    save_private_key(key, path)

    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    assert sorted(p.name for p in path.parent.iterdir()) == ["private.pem"]  # no temp file left

    loaded = load_private_key(path)
    assert type(loaded) is type(key)
    assert public_key_der(loaded.public_key()) == public_key_der(key.public_key())
    verify_bytes(key.public_key(), sign_bytes(loaded, b"payload"), b"payload")


def test_default_key_type_is_p256(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(generate_private_key(), path)
    text = openssl("pkey", "-in", str(path), "-noout", "-text").stdout.decode()
    assert "prime256v1" in text


def test_openssl_reads_ed25519_key_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(generate_private_key("ed25519"), path)
    result = openssl("pkey", "-in", str(path), "-noout", "-text")
    assert result.returncode == 0
    assert b"ED25519 Private-Key" in result.stdout


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first = generate_private_key()
    save_private_key(first, path)
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match="refusing to overwrite"):
        save_private_key(generate_private_key(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pem"]


def test_ensure_private_key_creates_once_then_loads(tmp_path: Path) -> None:
    path = tmp_path / "issuer" / "doc.key"
    created = ensure_private_key(path)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert b"prime256v1" in openssl("pkey", "-in", str(path), "-noout", "-text").stdout
    before = path.read_bytes()
    again = ensure_private_key(path)
    assert path.read_bytes() == before
    assert public_key_der(again.public_key()) == public_key_der(created.public_key())


def test_ensure_private_key_refuses_what_load_refuses(tmp_path: Path) -> None:
    path = tmp_path / "doc.key"
    save_private_key(generate_private_key("ed25519"), path)
    with pytest.raises(ConfigurationError, match="holds a key of type ed25519, expected ec-p256"):
        ensure_private_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        ensure_private_key(path, "ed25519")


def test_save_keeps_an_existing_directory_mode(tmp_path: Path) -> None:
    directory = tmp_path / "existing"
    directory.mkdir(mode=0o750)
    os.chmod(directory, 0o750)
    save_private_key(generate_private_key(), directory / "k.pem")
    assert mode_of(directory) == 0o750
    assert mode_of(directory / "k.pem") == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_refuses_key_readable_by_others(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k.pem"
    save_private_key(generate_private_key(), path)
    os.chmod(path, mode)
    with pytest.raises(ConfigurationError) as caught:
        load_private_key(path)
    assert f"mode {mode:04o}" in caught.value.detail
    assert f"chmod 600 {path}" in caught.value.detail


def test_load_accepts_owner_read_only(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(generate_private_key(), path)
    os.chmod(path, 0o400)
    load_private_key(path)


def test_load_refuses_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_private_key(tmp_path / "absent.pem")


def write_0600(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


@pytest.mark.parametrize(
    ("genpkey_args", "message"),
    [
        (["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], "RSAPrivateKey"),
        (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], "secp384r1"),
        (["-algorithm", "ed448"], "Ed448PrivateKey"),
    ],
)
def test_load_refuses_unsupported_key_types(
    tmp_path: Path, genpkey_args: list[str], message: str
) -> None:
    generated = openssl("genpkey", *genpkey_args)
    assert generated.returncode == 0, generated.stderr
    path = write_0600(tmp_path / "other.pem", generated.stdout)
    with pytest.raises(ConfigurationError, match=message):
        load_private_key(path)


def test_load_refuses_encrypted_key(tmp_path: Path) -> None:
    generated = openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes-128-cbc",
        "-pass",
        "pass:secret",
    )
    assert generated.returncode == 0, generated.stderr
    path = write_0600(tmp_path / "enc.pem", generated.stdout)
    with pytest.raises(ConfigurationError, match="encrypted"):
        load_private_key(path)


def test_load_refuses_garbage(tmp_path: Path) -> None:
    path = write_0600(tmp_path / "junk.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n")
    with pytest.raises(ConfigurationError, match="not a PEM private key"):
        load_private_key(path)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_fingerprint_matches_openssl(tmp_path: Path, key_type: KeyType) -> None:
    key = generate_private_key(key_type).public_key()
    pem_path = tmp_path / "pub.pem"
    pem_path.write_text(public_key_pem(key))
    result = openssl("pkey", "-pubin", "-in", str(pem_path), "-outform", "DER")
    assert result.returncode == 0, result.stderr
    expected = hashlib.sha256(result.stdout).hexdigest()

    assert result.stdout == public_key_der(key)
    assert public_key_fingerprint(key) == expected
    assert public_key_fingerprint(key) == public_key_fingerprint(key)  # stable
    assert public_key_fingerprint(load_public_key_pem(public_key_pem(key))) == expected
    assert public_key_fingerprint(load_public_key_pem(public_key_pem(key).encode())) == expected


def test_fingerprints_differ_between_keys() -> None:
    assert public_key_fingerprint(generate_private_key().public_key()) != public_key_fingerprint(
        generate_private_key().public_key()
    )


def test_load_public_key_refuses_rsa_and_garbage() -> None:
    rsa = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    rsa_public = openssl("pkey", "-pubout", input=rsa.stdout)
    assert rsa_public.returncode == 0
    with pytest.raises(ValidationError, match="RSA") as caught:
        load_public_key_pem(rsa_public.stdout)
    assert caught.value.field == "public_key"
    with pytest.raises(ValidationError, match="not a PEM public key"):
        load_public_key_pem("hello")


def test_generate_refuses_unknown_key_type() -> None:
    with pytest.raises(ValidationError, match="unsupported key type 'rsa'"):
        generate_private_key("rsa")  # type: ignore[arg-type]


def test_hashes_match_known_vectors() -> None:
    assert sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert sha256_hex(b"abc") == sha256(b"abc").hex()
    assert sha512(b"abc").hex().startswith("ddaf35a193617aba")
    assert len(sha512(b"")) == 64


@given(st.binary(max_size=200))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert b64url_decode(text) == data
    assert b64url_decode(text + "=" * (-len(text) % 4)) == data


def test_b64url_known_values_and_refusals() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"
    assert b64url_decode("-_8=") == b"\xfb\xff"
    for bad in ["+/8", "a b", "abcde", "ab$c"]:
        with pytest.raises(ValidationError, match="base64url"):
            b64url_decode(bad)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_sign_and_verify(key_type: KeyType) -> None:
    key = generate_private_key(key_type)
    signature = sign_bytes(key, b"message")
    verify_bytes(key.public_key(), signature, b"message")
    with pytest.raises(CryptoError, match="does not verify"):
        verify_bytes(key.public_key(), signature, b"messagE")
    with pytest.raises(CryptoError, match="does not verify"):
        verify_bytes(generate_private_key(key_type).public_key(), signature, b"message")
    tampered = bytearray(signature)
    tampered[-1] ^= 0x01
    with pytest.raises(CryptoError):
        verify_bytes(key.public_key(), bytes(tampered), b"message")


def test_signature_of_other_key_type_is_refused() -> None:
    ed = generate_private_key("ed25519")
    ec_key = generate_private_key("ec-p256")
    with pytest.raises(CryptoError):
        verify_bytes(ec_key.public_key(), sign_bytes(ed, b"m"), b"m")
    with pytest.raises(CryptoError):
        verify_bytes(ed.public_key(), sign_bytes(ec_key, b"m"), b"m")


def test_ecdsa_signature_verifies_with_openssl(tmp_path: Path) -> None:
    key = generate_private_key("ec-p256")
    (tmp_path / "pub.pem").write_text(public_key_pem(key.public_key()))
    (tmp_path / "data").write_bytes(b"data to sign")
    (tmp_path / "sig").write_bytes(sign_bytes(key, b"data to sign"))
    result = openssl(
        "dgst",
        "-sha256",
        "-verify",
        str(tmp_path / "pub.pem"),
        "-signature",
        str(tmp_path / "sig"),
        str(tmp_path / "data"),
    )
    assert result.returncode == 0, result.stderr
    assert b"Verified OK" in result.stdout


def test_ed25519_signature_verifies_with_openssl(tmp_path: Path) -> None:
    key = generate_private_key("ed25519")
    (tmp_path / "pub.pem").write_text(public_key_pem(key.public_key()))
    (tmp_path / "data").write_bytes(b"data to sign")
    (tmp_path / "sig").write_bytes(sign_bytes(key, b"data to sign"))
    result = openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(tmp_path / "pub.pem"),
        "-rawin",
        "-in",
        str(tmp_path / "data"),
        "-sigfile",
        str(tmp_path / "sig"),
    )
    assert result.returncode == 0, result.stderr
    assert b"Signature Verified Successfully" in result.stdout
