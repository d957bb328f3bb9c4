"""Typed errors of the dishonest-debtor list, each with a stable code.

CredgateError
├── BadUserInput
│   └── UnknownCourt        UNKNOWN_COURT: no court with that id is registered
├── DuplicateEntry          DUPLICATE_ENTRY: the debtor is already listed in that case
└── EntryRemoved            ENTRY_REMOVED: the entry was taken off the list
"""

from __future__ import annotations

from gateway.errors import BadUserInput, CredgateError


class UnknownCourt(BadUserInput):
    """The court named is not in the court registry."""

    code = "UNKNOWN_COURT"

    def __init__(self, court_id: str) -> None:
        super().__init__(f"No court '{court_id}' is registered.", field="court_id")


class DuplicateEntry(CredgateError):
    """The same debtor is already on the list for the same case."""

    code = "DUPLICATE_ENTRY"

    def __init__(self, case_number: str) -> None:
        super().__init__(f"This debtor is already listed in case {case_number}.")


class EntryRemoved(CredgateError):
    """The entry was removed from the list: nothing may be done on it any more."""

    code = "ENTRY_REMOVED"

    def __init__(self, entry_id: int) -> None:
        super().__init__(
            f"Entry {entry_id} was removed from the list; its measures must be lifted.",
            entry=str(entry_id),
        )
