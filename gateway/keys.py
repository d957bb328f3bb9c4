"""The key directory: private keys as PEM files (mode 0600), public keys as JWKS.

Files under ``DIR/keys/``:

    token-signing.pem        Ed25519, signs access tokens of the built-in issuer
    audit-signing.pem        Ed25519, signs audit checkpoints and receipts
    gateway-signing.pem      Ed25519, signs requests to remote agency connectors
    blind-index.key          32 random bytes (hex), HMAC key for subject blind indexes
    subject-encryption.key   32 random bytes (hex), AES-256-GCM key for subject data

The two symmetric keys live here and never in the database: resident ID numbers
are low-entropy, so a blind index without a secret key is brute-forceable
(DESIGN.md §7).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from gateway.errors import ConfigError

SIGNING_KEYS = ("token-signing", "audit-signing", "gateway-signing")
SECRET_KEYS = ("blind-index", "subject-encryption")


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its RFC 7638 thumbprint as key id."""

    private_key: Ed25519PrivateKey
    jwk: OKPKey

    @property
    def kid(self) -> str:
        """The key id: the RFC 7638 JWK thumbprint."""
        return self.jwk.kid or self.jwk.thumbprint()

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK with ``kid``, ``use`` and ``alg``."""
        jwk: dict[str, Any] = dict(self.jwk.as_dict(private=False))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "Ed25519"})
        return jwk


@dataclass(frozen=True)
class KeySet:
    """All keys of a gateway, loaded and checked at start-up."""

    token_signing: SigningKey
    audit_signing: SigningKey
    gateway_signing: SigningKey
    blind_index_key: bytes
    subject_encryption_key: bytes

    def jwks(self) -> dict[str, Any]:
        """The JWKS of the built-in issuer (``/.well-known/jwks.json``)."""
        return {"keys": [self.token_signing.public_jwk()]}


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite a key that appeared meanwhile; 0600 from the first byte.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def init_keys(keys_dir: Path) -> list[Path]:
    """Create every missing key file; existing keys are kept. Returns the files created."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    created = []
    for name in SIGNING_KEYS:
        path = keys_dir / f"{name}.pem"
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_private(path, pem)
            created.append(path)
    for name in SECRET_KEYS:
        path = keys_dir / f"{name}.key"
        if not path.exists():
            _write_private(path, secrets.token_hex(32).encode() + b"\n")
            created.append(path)
    return created


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "key file missing; run `credgate keys init`") from None
    except OSError as error:
        raise ConfigError(path, f"cannot read key file: {error.strerror}") from None
    if mode & 0o077:
        raise ConfigError(path, f"key file is readable by others (mode {mode:o}); chmod 600 it")
    return data


def load_signing_key(path: Path) -> SigningKey:
    """Load an Ed25519 private key from a PEM file.

    Raises:
        ConfigError: missing, too open, not PEM, or not an Ed25519 key.
    """
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as error:
        raise ConfigError(path, f"not a PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(path, "not an Ed25519 private key")
    jwk = OKPKey.import_key(key)
    return SigningKey(private_key=key, jwk=jwk)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key (PEM, SubjectPublicKeyInfo) or a private key's public half.

    Raises:
        ConfigError: missing, not PEM, or not an Ed25519 key.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(path, f"cannot read key file: {error.strerror}") from None
    try:
        if b"PRIVATE KEY" in data:
            return load_signing_key(path).public_key
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise ConfigError(path, f"not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(path, "not an Ed25519 public key")
    return key


def _load_secret(path: Path) -> bytes:
    text = _read(path).strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(path, "not a hex-encoded key") from None
    if len(key) != 32:
        raise ConfigError(path, f"expected 32 bytes, found {len(key)}")
    return key


def load_keys(keys_dir: Path) -> KeySet:
    """Load and check every key of the gateway.

    Raises:
        ConfigError: naming the first file that is missing or broken.
    """
    return KeySet(
        token_signing=load_signing_key(keys_dir / "token-signing.pem"),
        audit_signing=load_signing_key(keys_dir / "audit-signing.pem"),
        gateway_signing=load_signing_key(keys_dir / "gateway-signing.pem"),
        blind_index_key=_load_secret(keys_dir / "blind-index.key"),
        subject_encryption_key=_load_secret(keys_dir / "subject-encryption.key"),
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    """A public key as PEM (SubjectPublicKeyInfo), for handing to agencies and auditors."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
