"""The OAuth scopes the gateway understands, with what each allows."""

from __future__ import annotations

from typing import Final

INVESTIGATE: Final = "investigate"
CASES_READ: Final = "cases:read"
AGENCIES_READ: Final = "agencies:read"
AUDIT_READ: Final = "audit:read"
POLICY_EXPLAIN: Final = "policy:explain"
CONTROL: Final = "control"
LIST_PUBLISH: Final = "list:publish"
LIST_LOOKUP: Final = "list:lookup"
LIST_SYNC: Final = "list:sync"
LIST_FEEDBACK: Final = "list:feedback"
LIST_OVERSIGHT: Final = "list:oversight"
LIST_PUBLIC: Final = "list:public"

SCOPES: Final[dict[str, str]] = {
    INVESTIGATE: "investigate the assets of a respondent in an assigned case",
    CASES_READ: "list one's own enforcement cases",
    AGENCIES_READ: "see the status of the agency connectors",
    AUDIT_READ: "search and verify the audit log",
    POLICY_EXPLAIN: "ask which policy decided a field",
    CONTROL: "order and follow control measures (freeze, deduct ...) in an assigned case",
    LIST_PUBLISH: "publish, correct and remove dishonest-debtor entries",
    LIST_LOOKUP: "look up subjects on the dishonest-debtor list",
    LIST_SYNC: "follow the dishonest-debtor list's change feed",
    LIST_FEEDBACK: "report the sanctions an agency applied",
    LIST_OVERSIGHT: "see sanction and look-up figures per agency",
    LIST_PUBLIC: "read the public dishonest-debtor list (masked)",
}
