"""Typed errors of the dishonest-debtor list, each with a stable code.

CredgateError
├── BadUserInput
│   ├── UnknownCourt        UNKNOWN_COURT: no court with that id is registered
│   └── MinorDebtor         MINOR_DEBTOR: the debtor was under 18 when published (art. 4)
├── DuplicateEntry          DUPLICATE_ENTRY: the debtor is already listed in that case
├── EntryRemoved            ENTRY_REMOVED: the entry was taken off the list
└── NotExtendable           NOT_EXTENDABLE: no term, no ground, or over three years (art. 2)
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


class MinorDebtor(BadUserInput):
    """The debtor was under 18 on the publication date (2017 provisions, art. 4)."""

    code = "MINOR_DEBTOR"

    def __init__(self, age: int) -> None:
        super().__init__(
            f"The debtor was {age} on the publication date: minors are not listed (art. 4).",
            field="subject",
        )


class NotExtendable(CredgateError):
    """The entry's term cannot be extended (art. 2)."""

    code = "NOT_EXTENDABLE"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
