"""How the list keeps identifiers: a keyed blind index to find them, ciphertext to show them.

A listed debtor's ID number is needed in three shapes: to find the entries of
a subject an agency asks about (an index), in full for the court that published
it and for the agencies following the change feed, and masked on the public
list. The database therefore holds

* ``subject_index``: HMAC-SHA256 under the blind-index key of the normalised
  identifier (RFC 2104). ID numbers are low-entropy (region, birth date, order
  code: about 10^11 candidates), so an unkeyed hash is brute-forceable; the key
  lives in the key directory, never in the database (DESIGN.md §7).
* ``id_ciphertext``: AES-256-GCM of the identifier (NIST SP 800-38D), with a
  random 96-bit nonce, under a key derived with HKDF (RFC 5869) from the
  subject-encryption key, so a dump or a replica of the database does not hand
  out a million ID numbers. The blind index is the associated data: a
  ciphertext copied onto another row no longer decrypts.
* ``id_masked``: the public form, which is public by law and needs no key to
  show: an organisation's unified social credit code in full (the provisions,
  art. 6, publish it), a person's resident ID with the month and day of birth
  hidden (GB 11643 digits 11-14), as the Supreme People's Court's list shows it.
  The public list computes it again from the sealed identifier when it answers,
  so rows written before migration 0006 are shown the same way.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connectors.subject import Subject
from gateway.errors import CredgateError

_NONCE_BYTES = 12
# Domain separation: the audit log uses the same master key for its own ciphertexts.
_HKDF_INFO = b"credgate/credit-list/id-number/v1"


class SealBroken(CredgateError):
    """A stored identifier does not decrypt: wrong key, or the row was tampered with."""

    code = "SEAL_BROKEN"


@dataclass(frozen=True, slots=True)
class SealedSubject:
    """The stored shapes of one identifier."""

    index: str
    ciphertext: bytes
    masked: str


def mask_id(id_number: str, id_type: str = "resident_id") -> str:
    """The public form of an identifier (see the module docstring).

    Args:
        id_number: the normalised identifier.
        id_type: ``resident_id`` (birth month and day hidden) or ``uscc`` (in full).
    """
    if id_type != "resident_id":
        return id_number
    # Region (6) and year of birth (4) stay: the age is published anyway.
    return id_number[:10] + "****" + id_number[14:]


class SubjectSealer:
    """Computes blind indexes and seals and opens stored identifiers.

    The list and the case store (gateway.case_store) both keep identifiers this
    way. The blind index is the same for both, so a respondent and a list entry
    of one person can be matched; each gives its own ``purpose``, from which its
    encryption key is derived (RFC 5869 ``info``), so one store's ciphertexts
    never open as another's.

    Args:
        blind_index_key: ``keys.blind_index_key``.
        encryption_key: ``keys.subject_encryption_key``.
        purpose: The HKDF ``info`` naming the store.
    """

    def __init__(
        self, blind_index_key: bytes, encryption_key: bytes, *, purpose: bytes = _HKDF_INFO
    ) -> None:
        self._index_key = blind_index_key
        derived = HKDF(hashes.SHA256(), 32, salt=None, info=purpose).derive(encryption_key)
        self._aead = AESGCM(derived)

    def index(self, id_type: str, id_number: str) -> str:
        """The blind index of a normalised identifier (hex).

        The type is part of the message: a resident ID and a credit code are both
        18 characters, and must never share an index.
        """
        message = f"{id_type}:{id_number}".encode()
        return hmac.digest(self._index_key, message, "sha256").hex()

    def seal(self, subject: Subject) -> SealedSubject:
        """The index, ciphertext and masked form of a subject's identifier."""
        index = self.index(subject.id_type, subject.id_number)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, subject.id_number.encode(), index.encode())
        return SealedSubject(index, sealed, mask_id(subject.id_number, subject.id_type))

    def open(self, ciphertext: bytes, index: str) -> str:
        """The identifier sealed under ``index``.

        Raises:
            SealBroken: the ciphertext is not this row's.
        """
        nonce, body = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, index.encode()).decode()
        except InvalidTag:
            raise SealBroken("A stored identifier failed its integrity check.") from None
