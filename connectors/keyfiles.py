"""Key files of the signed transport: Ed25519 keys as PEM, private ones mode 0600.

An agency makes its pair with ``credgate connector keygen``; the gateway's
request-signing key lives in its own key directory (``gateway-signing.pem``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

__all__ = [
    "MessageKey",
    "generate_key_file",
    "load_private_key",
    "load_public_key",
    "public_pem",
]


@dataclass(frozen=True, slots=True)
class MessageKey:
    """An Ed25519 private key with its RFC 7638 thumbprint as key id."""

    private_key: Ed25519PrivateKey
    jwk: OKPKey
    kid: str
    """The key id: the RFC 7638 thumbprint of the public key (computed once)."""

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> MessageKey:
        """Wrap a private key."""
        jwk = OKPKey.import_key(private_key)
        return cls(private_key, jwk, jwk.thumbprint())

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, for the other side to trust."""
        return self.private_key.public_key()


def load_private_key(path: Path) -> MessageKey:
    """Load an Ed25519 private key (PEM, PKCS#8) that only its owner can read.

    Raises:
        ValueError: missing, readable by others, not PEM, or not Ed25519.
    """
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot read key file: {error.strerror}") from None
    if mode & 0o077:
        raise ValueError(f"{path}: key file is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ValueError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    from connectors.signing import MessageKey

    return MessageKey.of(key)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key (PEM, SubjectPublicKeyInfo).

    Raises:
        ValueError: missing, not PEM, or not Ed25519.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot read key file: {error.strerror}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ValueError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    """A public key as PEM (SubjectPublicKeyInfo), to hand to the other side."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generate_key_file(path: Path) -> tuple[MessageKey, Path]:
    """Create a new private key at ``path`` (mode 0600) and its public key beside it.

    The public key goes to ``<path without .pem>.pub.pem``. An existing private
    key is never overwritten.

    Returns:
        The key and the path of the public key file.

    Raises:
        FileExistsError: ``path`` exists already.
    """
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key; 0600 from the first byte.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path = path.with_name(path.name.removesuffix(".pem") + ".pub.pem")
    public_path.write_bytes(public_pem(private_key.public_key()))
    from connectors.signing import MessageKey

    return MessageKey.of(private_key), public_path
