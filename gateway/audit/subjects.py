"""Subjects in the audit log: a keyed blind index for search, ciphertext for recovery.

A resident ID number has about 30 bits of entropy once its region, birth date
and check digit are known, so an unkeyed hash of it is reversed by enumeration
in minutes. The log therefore stores (DESIGN.md §7):

* ``blind_index = HMAC-SHA256(blind_index_key, "credgate-subject/v1" || 0x00 || id)``
  (RFC 2104), in the event and in ``audit_subjects``; auditors search by it.
* ``AES-256-GCM(subject_encryption_key, id)`` (NIST SP 800-38D) in
  ``audit_subjects`` only, with the event's index, the subject's position and
  its blind index as associated data, so a ciphertext moved to another event or
  position fails to decrypt. The event commits to the ciphertext's SHA-256.

Both keys live in the key directory, never in the database. Destroying the
encryption key at the end of retention makes the IDs unrecoverable while every
leaf, root and proof stays valid: the leaves hold only the blind index and the
ciphertext's hash, which do not change.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.audit.canonical import encode_base64

__all__ = ["SealedSubject", "SubjectCipher", "ciphertext_hash", "normalize_subject"]

_BLIND_INDEX_DOMAIN = b"credgate-subject/v1\x00"
_AAD_DOMAIN = b"credgate-audit-subject/v1\n"
# NIST SP 800-38D §8.2.2: 96-bit random nonces; far below 2**32 uses per key here.
_NONCE_SIZE = 12


def normalize_subject(subject: str) -> str:
    """The canonical form of a subject ID, so that searches match what was logged.

    Resident ID numbers end in a check character that may be written ``x`` or
    ``X``; credit codes are upper case. Surrounding spaces are not part of an ID.

    Args:
        subject: A resident ID number or unified social credit code.

    Returns:
        The ID, stripped and upper-cased.
    """
    return subject.strip().upper()


def ciphertext_hash(ciphertext: bytes) -> str:
    """The commitment an event holds to a subject's ciphertext: base64 SHA-256."""
    return encode_base64(hashlib.sha256(ciphertext).digest())


@dataclass(frozen=True)
class SealedSubject:
    """One subject as the log stores it.

    Attributes:
        blind_index: Hex HMAC of the normalized ID.
        key_id: Identifies the encryption key (for rotation and destruction).
        ciphertext: Nonce followed by the AES-GCM ciphertext and tag.
    """

    blind_index: str
    key_id: str
    ciphertext: bytes

    def commitment(self) -> dict[str, str]:
        """What the event (and so the Merkle leaf) records about this subject."""
        return {"blindIndex": self.blind_index, "ciphertextHash": ciphertext_hash(self.ciphertext)}


class SubjectCipher:
    """Computes blind indexes and encrypts subjects with the key directory's keys.

    Args:
        blind_index_key: 32-byte HMAC key (``keys.blind_index_key``).
        encryption_key: 32-byte AES-256 key (``keys.subject_encryption_key``).
    """

    def __init__(self, blind_index_key: bytes, encryption_key: bytes) -> None:
        self._blind_index_key = blind_index_key
        self._aead = AESGCM(encryption_key)
        self.key_id = hashlib.sha256(b"credgate-key-id\x00" + encryption_key).hexdigest()[:16]

    def blind_index(self, subject: str) -> str:
        """The keyed blind index of a subject ID (hex HMAC-SHA256).

        Args:
            subject: The ID, in any case and spacing.

        Returns:
            64 hex characters.
        """
        message = _BLIND_INDEX_DOMAIN + normalize_subject(subject).encode("utf-8")
        return hmac.digest(self._blind_index_key, message, "sha256").hex()

    def seal(self, subject: str, index: int, position: int) -> SealedSubject:
        """Encrypt a subject for the event at ``index``.

        Args:
            subject: The ID.
            index: The event's leaf index.
            position: The subject's position in the event.

        Returns:
            The blind index and ciphertext.
        """
        blind = self.blind_index(subject)
        nonce = os.urandom(_NONCE_SIZE)
        plaintext = normalize_subject(subject).encode("utf-8")
        sealed = self._aead.encrypt(nonce, plaintext, _aad(index, position, blind))
        return SealedSubject(blind, self.key_id, nonce + sealed)

    def open(self, sealed: SealedSubject, index: int, position: int) -> str | None:
        """Decrypt a subject, or ``None`` if it is bound elsewhere or the key differs.

        Args:
            sealed: The stored subject.
            index: The index of the event it is claimed to belong to.
            position: Its claimed position in that event.

        Returns:
            The ID, or ``None``.
        """
        if sealed.key_id != self.key_id or len(sealed.ciphertext) <= _NONCE_SIZE:
            return None
        nonce, body = sealed.ciphertext[:_NONCE_SIZE], sealed.ciphertext[_NONCE_SIZE:]
        try:
            plaintext = self._aead.decrypt(nonce, body, _aad(index, position, sealed.blind_index))
        except InvalidTag:
            return None
        return plaintext.decode("utf-8")


def _aad(index: int, position: int, blind_index: str) -> bytes:
    return _AAD_DOMAIN + f"{index}\n{position}\n{blind_index}\n".encode("ascii")
