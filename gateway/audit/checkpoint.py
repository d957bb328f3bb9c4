"""Signed checkpoints of the audit tree, as C2SP signed notes.

A checkpoint commits to the tree at one size (https://c2sp.org/tlog-checkpoint)
and is carried in a signed note (https://c2sp.org/signed-note) with an Ed25519
signature, so that the Go ``golang.org/x/mod/sumdb/note`` package, Trillian,
Tessera and C2SP witnesses can all read and verify credgate's checkpoints::

    credgate.example/audit
    42
    <base64 of the 32-byte root hash>

    — credgate.example/audit <base64(4-byte key hash || 64-byte signature)>

Every rejection raises :class:`~gateway.audit.errors.CheckpointError`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.audit.canonical import decode_base64, encode_base64
from gateway.audit.errors import CheckpointError
from gateway.audit.merkle import HASH_SIZE

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "ed25519_key_hash",
    "open_checkpoint",
    "open_note",
]

#: C2SP signed-note signature type identifier of Ed25519.
_ED25519_TYPE = b"\x01"
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_KEY_HASH_SIZE = 4

#: Em dash (U+2014) and a space start every signature line (C2SP signed-note).
_SIGNATURE_PREFIX = "\u2014 "

#: Most signature lines read from one note, as Go's ``note.Open`` does; C2SP
#: signed-note asks verifiers to cap them and to accept at least 16.
MAX_SIGNATURES = 100

#: C2SP tlog-checkpoint: "ASCII decimal ... with no leading zeroes".
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = 2**64 - 1
_HEX_KEY_HASH = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class Checkpoint:
    """The tree head a checkpoint commits to (C2SP tlog-checkpoint).

    Attributes:
        origin: Unique identifier of the log, e.g. ``credgate.example/audit``.
        size: Number of leaves in the tree.
        root_hash: The tree's 32-byte RFC 9162 root hash.
        extensions: Optional extension lines; C2SP does not recommend them
            because monitors cannot audit them.

    Raises:
        CheckpointError: If a field cannot appear in a well-formed checkpoint.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # C2SP tlog-checkpoint: the origin and extension lines MUST be non-empty.
        _require_line(self.origin, "origin")
        for line in self.extensions:
            _require_line(line, "extension line")
        if type(self.size) is not int or not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.size!r} is not a 64-bit unsigned integer")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash is {len(self.root_hash)} bytes, not {HASH_SIZE}")

    def body(self) -> str:
        """Render the note text that gets signed.

        Returns:
            Origin, size, base64 root hash and extension lines, each ending in
            a newline.
        """
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def _require_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointError(f"{what} is empty")
    if _has_control_character(line, allow_newline=False):
        raise CheckpointError(f"{what} contains a control character or newline")


def _has_control_character(text: str, *, allow_newline: bool) -> bool:
    return any(ord(ch) < 0x20 and not (allow_newline and ch == "\n") for ch in text)


def _parse_body(text: str) -> Checkpoint:
    # C2SP tlog-checkpoint: at least three non-empty lines, each ending in a newline.
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint has fewer than three lines")
    if not all(lines):
        raise CheckpointError("checkpoint contains an empty line")
    origin, size_text, root_text, *extensions = lines
    if not _TREE_SIZE.fullmatch(size_text):
        raise CheckpointError(f"tree size {size_text!r} is not a decimal without leading zeros")
    try:
        root_hash = decode_base64(root_text)
    except ValueError as exc:
        raise CheckpointError(f"root hash is not base64: {exc}") from exc
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def ed25519_key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Compute the 4-byte key hash (key ID) of an Ed25519 note key.

    C2SP signed-note: ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``.

    Args:
        name: The key name.
        public_key: The Ed25519 public key.

    Returns:
        The key hash, big-endian as it appears in signatures.
    """
    material = name.encode("utf-8") + b"\n" + _ED25519_TYPE + _raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:_KEY_HASH_SIZE]


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _require_key_name(name: str) -> None:
    # C2SP signed-note: key names MUST be non-empty and contain neither
    # Unicode spaces nor "+", which separates the fields of a vkey.
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"invalid key name {name!r}")
    if _has_control_character(name, allow_newline=False):
        raise CheckpointError(f"key name {name!r} contains a control character")


class NoteVerifier:
    """An Ed25519 note-verifier key: a key name bound to a public key.

    Args:
        name: The key name, conventionally the log's origin.
        public_key: The Ed25519 public key.

    Raises:
        CheckpointError: If the name is not a valid C2SP key name.
    """

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        _require_key_name(name)
        self._name = name
        self._public_key = public_key
        self._key_hash = ed25519_key_hash(name, public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key ``<name>+<hex key hash>+<base64(0x01 || public key)>``.

        Args:
            vkey: The encoded verifier key, as ``note.NewVerifier`` reads it.

        Returns:
            The verifier.

        Raises:
            CheckpointError: If the text is malformed, the key is not Ed25519,
                or the key hash does not match the name and key.
        """
        name, hash_text, key_text = _split_vkey(vkey)
        try:
            key_data = decode_base64(key_text)
        except ValueError as exc:
            raise CheckpointError(f"verifier key is not base64: {exc}") from exc
        if key_data[:1] != _ED25519_TYPE or len(key_data) != 1 + _ED25519_KEY_SIZE:
            raise CheckpointError("verifier key is not an Ed25519 key")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(key_data[1:])
        except ValueError as exc:
            raise CheckpointError(f"verifier key is not an Ed25519 key: {exc}") from exc
        verifier = cls(name, public_key)
        # The hash is redundant with name and key; a mismatch means the vkey
        # was mangled, so refuse it rather than trust either half.
        if bytes.fromhex(hash_text) != verifier.key_hash:
            raise CheckpointError("verifier key hash does not match its name and key")
        return verifier

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key hash that signature lines carry."""
        return self._key_hash

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The Ed25519 public key."""
        return self._public_key

    @property
    def vkey(self) -> str:
        """The encoded verifier key, to hand to auditors and witnesses."""
        key_data = encode_base64(_ED25519_TYPE + _raw_public_key(self._public_key))
        return f"{self._name}+{self._key_hash.hex()}+{key_data}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        """Report whether ``signature`` is this key's Ed25519 signature of ``text``.

        Args:
            text: The signed note text, final newline included.
            signature: The signature without its key hash.

        Returns:
            Whether the signature is valid.
        """
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey!r})"


def _split_vkey(vkey: str) -> tuple[str, str, str]:
    # The base64 key may itself contain "+", so split at the first two only.
    parts = vkey.split("+", 2)
    if len(parts) != 3 or not _HEX_KEY_HASH.fullmatch(parts[1]):
        raise CheckpointError("malformed verifier key")
    return parts[0], parts[1], parts[2]


class NoteSigner:
    """Signs checkpoints as C2SP signed notes with an Ed25519 key.

    Args:
        name: The key name; C2SP tlog-checkpoint says it SHOULD match the origin.
        private_key: The Ed25519 audit signing key.

    Raises:
        CheckpointError: If the name is not a valid C2SP key name.
    """

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._verifier = NoteVerifier(name, private_key.public_key())
        self._private_key = private_key

    @property
    def name(self) -> str:
        """The key name."""
        return self._verifier.name

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier, whose :attr:`NoteVerifier.vkey` can be published."""
        return self._verifier

    def sign(self, checkpoint: Checkpoint) -> str:
        """Sign a checkpoint.

        Args:
            checkpoint: The tree head to commit to.

        Returns:
            The signed note: the checkpoint text, a blank line, and one
            signature line.
        """
        return self.sign_note(checkpoint.body())

    def sign_note(self, text: str) -> str:
        """Sign any note text, as Go's ``note.Sign`` does with one signer.

        Args:
            text: The note text; it must end with a newline.

        Returns:
            The signed note.

        Raises:
            CheckpointError: If the text does not end with a newline or
                contains a control character other than newline.
        """
        # C2SP signed-note: the text ends in a newline, has no other ASCII
        # control characters, and is signed including that final newline but
        # not the blank line that follows it.
        if not text.endswith("\n"):
            raise CheckpointError("note text does not end with a newline")
        if _has_control_character(text, allow_newline=True):
            raise CheckpointError("note text contains a control character")
        signature = self._private_key.sign(text.encode("utf-8"))
        encoded = encode_base64(self._verifier.key_hash + signature)
        return f"{text}\n{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class _SignatureLine:
    name: str
    key_hash: bytes
    signature: bytes


def open_note(note_text: str, verifier: NoteVerifier) -> str:
    """Verify a C2SP signed note and return its text.

    Signatures by other keys are ignored, as C2SP signed-note requires (this is
    how witnesses cosign). Every signature by ``verifier``'s key must verify,
    and at least one must be present.

    Args:
        note_text: The signed note.
        verifier: The signer's verifier key.

    Returns:
        The verified note text, final newline included.

    Raises:
        CheckpointError: If the note is malformed, carries no signature by
            ``verifier``, or carries a bad one.
    """
    text, lines = _split_note(note_text)
    _verify_signatures(text.encode("utf-8"), lines, verifier)
    return text


def open_checkpoint(
    note_text: str, verifier: NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint and return the tree head it commits to.

    Args:
        note_text: The signed note.
        verifier: The log's verifier key.
        origin: The origin the checkpoint must name; by default the verifier's
            key name, which C2SP tlog-checkpoint says SHOULD match it. This
            stops a checkpoint of another log signed with the same key from
            being accepted for this one.

    Returns:
        The verified checkpoint.

    Raises:
        CheckpointError: If :func:`open_note` rejects the note, its text is
            not a well-formed checkpoint, or it names another origin.
    """
    # Parse only text whose signature has been verified (C2SP signed-note:
    # "The text MUST be ignored unless the note is signed by a trusted key").
    checkpoint = _parse_body(open_note(note_text, verifier))
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {expected!r}")
    return checkpoint


def _split_note(note_text: str) -> tuple[str, list[_SignatureLine]]:
    # C2SP signed-note: valid UTF-8 (no lone surrogates) without ASCII control
    # characters other than newline.
    try:
        note_text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError("note is not valid UTF-8") from exc
    if _has_control_character(note_text, allow_newline=True):
        raise CheckpointError("note contains a control character")
    # The text is separated from the signatures by the last empty line.
    split = note_text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note_text[: split + 1], note_text[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("note does not end with a signature line and newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> _SignatureLine:
    # C2SP signed-note: "— <key name> base64(32-bit key ID || signature)".
    if not line.startswith(_SIGNATURE_PREFIX):
        raise CheckpointError("signature line does not start with an em dash and space")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    _require_key_name(name)
    try:
        raw = decode_base64(encoded)
    except ValueError as exc:
        raise CheckpointError(f"signature of {name!r} is not base64: {exc}") from exc
    if len(raw) <= _KEY_HASH_SIZE:
        raise CheckpointError(f"signature of {name!r} is too short")
    return _SignatureLine(name, raw[:_KEY_HASH_SIZE], raw[_KEY_HASH_SIZE:])


def _verify_signatures(text: bytes, lines: list[_SignatureLine], verifier: NoteVerifier) -> None:
    verified = 0
    for line in lines:
        # C2SP signed-note: a key is identified by name AND key hash; signatures
        # matching only one of them are from unknown keys and MUST be ignored.
        if line.name != verifier.name or not hmac.compare_digest(line.key_hash, verifier.key_hash):
            continue
        # "If a signature from a known key fails to verify, clients SHOULD
        # reject the whole note": we do, for every copy, not just the first.
        if not verifier.verifies(text, line.signature):
            raise CheckpointError(f"invalid signature by key {verifier.name}")
        verified += 1
    if not verified:
        raise CheckpointError(f"note has no signature by key {verifier.name}")
