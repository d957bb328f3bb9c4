"""C2SP signed-note checkpoints: round trips, rejections, and Go interoperability."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    ed25519_key_hash,
    open_checkpoint,
    open_note,
)
from gateway.audit.errors import CheckpointError
from gateway.audit.merkle import leaf_hash, root_from_leaf_hashes

ORIGIN = "credgate.test/audit"
ROOT = root_from_leaf_hashes([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
CHECKPOINT = Checkpoint(ORIGIN, 3, ROOT)
EM_DASH = "\u2014"


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


SIGNER = NoteSigner(ORIGIN, _key(1))
VERIFIER = SIGNER.verifier


# --- Go golang.org/x/mod/sumdb/note test vectors (note.go, note_test.go) ---

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    f"{EM_DASH} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    f"{EM_DASH} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01o"
    "OTGwnWLox33WWd1RvMc+QQ=\n"
)


def _peter_signer() -> NoteSigner:
    # skey layout: PRIVATE+KEY+<name>+<hash>+base64(0x01 || 32-byte seed).
    seed = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return NoteSigner("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed[1:]))


def test_go_signer_produces_the_go_signature_byte_for_byte() -> None:
    signer = _peter_signer()
    assert signer.verifier.vkey == PETER_VKEY
    assert signer.sign_note(GO_TEXT) == GO_TEXT + "\n" + PETER_SIG


def test_go_vkey_parses_and_round_trips() -> None:
    verifier = NoteVerifier.from_vkey(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_hash.hex() == "c74f20a3"
    assert ed25519_key_hash("PeterNeumann", verifier.public_key) == bytes.fromhex("c74f20a3")
    assert verifier.vkey == PETER_VKEY


def test_go_note_opens_and_ignores_the_unknown_cosigner() -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, NoteVerifier.from_vkey(PETER_VKEY)) == GO_TEXT
    assert open_note(note, NoteVerifier.from_vkey(ENOCH_VKEY)) == GO_TEXT


def test_go_corrupted_signature_is_rejected() -> None:
    raw = PETER_SIG.encode()
    corrupted = (raw[:60] + b"ABCD" + raw[60:]).decode()
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_note(GO_TEXT + "\n" + corrupted, NoteVerifier.from_vkey(PETER_VKEY))


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        "\udcff" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_go_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, NoteVerifier.from_vkey(PETER_VKEY))


def test_go_mangled_vkeys_are_rejected() -> None:
    # As Go's TestNewVerifier: every proper substring and every one-character
    # change must fail.
    for start in range(len(PETER_VKEY) + 1):
        for end in range(start + 1, len(PETER_VKEY) + 1):
            if (start, end) != (0, len(PETER_VKEY)):
                with pytest.raises(CheckpointError):
                    NoteVerifier.from_vkey(PETER_VKEY[start:end])
    for position, char in enumerate(PETER_VKEY):
        mangled = PETER_VKEY[:position] + chr(ord(char) + 1) + PETER_VKEY[position + 1 :]
        with pytest.raises(CheckpointError):
            NoteVerifier.from_vkey(mangled)


@pytest.mark.parametrize(
    "vkey",
    [
        # Wrong key length and unknown algorithm, each with an adjusted key hash.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_go_bad_vkeys_are_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        NoteVerifier.from_vkey(vkey)


# --- credgate checkpoints ---


def test_checkpoint_round_trip() -> None:
    note = SIGNER.sign(CHECKPOINT)
    root_b64 = base64.b64encode(ROOT).decode()
    assert note.startswith(f"{ORIGIN}\n3\n{root_b64}\n\n{EM_DASH} {ORIGIN} ")
    assert open_checkpoint(note, VERIFIER) == CHECKPOINT
    assert open_checkpoint(note, NoteVerifier.from_vkey(VERIFIER.vkey)) == CHECKPOINT


def test_signature_line_carries_key_hash_and_64_byte_signature() -> None:
    line = SIGNER.sign(CHECKPOINT).splitlines()[-1]
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 64
    assert raw[:4] == VERIFIER.key_hash


def test_empty_tree_and_extension_lines_round_trip() -> None:
    empty = Checkpoint(ORIGIN, 0, root_from_leaf_hashes([]))
    assert open_checkpoint(SIGNER.sign(empty), VERIFIER) == empty
    extended = Checkpoint(ORIGIN, 3, ROOT, ("time 1700000000", "other ext"))
    assert open_checkpoint(SIGNER.sign(extended), VERIFIER) == extended


def test_tampered_size_is_rejected() -> None:
    note = SIGNER.sign(CHECKPOINT).replace(f"{ORIGIN}\n3\n", f"{ORIGIN}\n4\n", 1)
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note, VERIFIER)


def test_tampered_root_is_rejected() -> None:
    other_root = base64.b64encode(root_from_leaf_hashes([leaf_hash(b"x")])).decode()
    note = SIGNER.sign(CHECKPOINT).replace(base64.b64encode(ROOT).decode(), other_root, 1)
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note, VERIFIER)


def test_signature_by_another_key_is_rejected() -> None:
    impostor = NoteSigner(ORIGIN, _key(2))
    with pytest.raises(CheckpointError, match="no signature by key"):
        open_checkpoint(impostor.sign(CHECKPOINT), VERIFIER)


def test_other_key_claiming_our_key_hash_is_rejected() -> None:
    forged_sig = _key(2).sign(CHECKPOINT.body().encode())
    line = base64.b64encode(VERIFIER.key_hash + forged_sig).decode()
    note = f"{CHECKPOINT.body()}\n{EM_DASH} {ORIGIN} {line}\n"
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note, VERIFIER)


def test_wrong_key_name_is_rejected() -> None:
    renamed = NoteSigner("credgate.test/other", _key(1))
    with pytest.raises(CheckpointError, match="no signature by key"):
        open_checkpoint(renamed.sign(CHECKPOINT), VERIFIER)
    # The same signature relabelled with our name carries the wrong key hash.
    relabelled = renamed.sign(CHECKPOINT).replace("credgate.test/other ", f"{ORIGIN} ")
    with pytest.raises(CheckpointError, match="no signature by key"):
        open_checkpoint(relabelled, VERIFIER)


def test_origin_must_match() -> None:
    foreign = SIGNER.sign(Checkpoint("credgate.test/staging", 3, ROOT))
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(foreign, VERIFIER)
    assert open_checkpoint(foreign, VERIFIER, origin="credgate.test/staging").size == 3


def test_cosignatures_by_unknown_keys_are_ignored() -> None:
    cosigner = NoteSigner("witness.test/w1", _key(3))
    cosigned = cosigner.sign(CHECKPOINT).split("\n\n")[1]
    note = SIGNER.sign(CHECKPOINT) + cosigned
    assert open_checkpoint(note, VERIFIER) == CHECKPOINT


def test_a_bad_second_signature_from_our_key_is_rejected() -> None:
    # Go's note.Open checks only the first signature per key; we check all.
    note = SIGNER.sign(CHECKPOINT)
    other_text_line = SIGNER.sign(Checkpoint(ORIGIN, 9, ROOT)).split("\n\n")[1]
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note + other_text_line, VERIFIER)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n3\n",
        f"{ORIGIN}\n03\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n+3\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n0x3\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n٣\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n3 \n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",
        f"{ORIGIN}\n3\nnot base64\n",
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n\nextension\n",
        f"\n{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n",
    ],
)
def test_signed_but_malformed_checkpoint_bodies_are_rejected(body: str) -> None:
    # Signed with the right key, so only the checkpoint syntax is at fault.
    note = SIGNER.sign_note(body)
    with pytest.raises(CheckpointError):
        open_checkpoint(note, VERIFIER)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda note: note.rstrip("\n"),
        lambda note: note.replace("\n\n", "\n", 1),
        lambda note: note.replace(EM_DASH, "-", 1),
        lambda note: note.replace(EM_DASH + " ", EM_DASH, 1),
        lambda note: note.replace("\n3\n", "\n3\r\n", 1),
        lambda note: note + "\n",
        lambda note: note + "trailing\n",
        lambda note: note.replace(f"{EM_DASH} {ORIGIN} ", f"{EM_DASH} {ORIGIN}  ", 1),
        lambda note: note[: note.rindex("=")] + "!\n",
        lambda note: note[: note.rindex(" ") + 1] + "AAAA\n",
        lambda note: note.replace("\n\n", "\n\n\n", 1),
    ],
)
def test_malformed_notes_are_rejected(mangle: Callable[[str], str]) -> None:
    with pytest.raises(CheckpointError):
        open_checkpoint(mangle(SIGNER.sign(CHECKPOINT)), VERIFIER)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 3, ROOT),
        ("a\nb", 3, ROOT),
        (ORIGIN, -1, ROOT),
        (ORIGIN, 2**64, ROOT),
        (ORIGIN, 3, ROOT[:16]),
    ],
)
def test_invalid_checkpoints_cannot_be_built(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin, size, root)


def test_invalid_extension_lines_cannot_be_built() -> None:
    with pytest.raises(CheckpointError, match="extension line is empty"):
        Checkpoint(ORIGIN, 3, ROOT, ("",))


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\tb"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(CheckpointError):
        NoteSigner(name, _key(1))


@pytest.mark.parametrize("text", ["no final newline", "bell\x07\n"])
def test_unsignable_note_text_is_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        SIGNER.sign_note(text)


def test_error_code_is_stable() -> None:
    with pytest.raises(CheckpointError) as caught:
        open_checkpoint("garbage", VERIFIER)
    assert caught.value.code == "AUDIT_CHECKPOINT_INVALID"
