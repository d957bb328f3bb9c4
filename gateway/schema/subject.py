"""``SubjectInput``: whom a query is about, shared by every domain's schema.

One GraphQL input type for every operation that names a person or an
organisation (investigation, the dishonest list), validated by the connector
SDK (python-stdnum) so that every part of the gateway accepts the same IDs.
"""

from __future__ import annotations

import strawberry

from connectors.errors import InvalidSubject
from connectors.subject import Subject, parse_subject
from gateway.errors import BadUserInput


@strawberry.input(
    description=(
        "A person by resident ID number (居民身份证号码) or an organisation by unified "
        "social credit code (统一社会信用代码): exactly one of the two, name optional."
    )
)
class SubjectInput:
    resident_id: str | None = None
    credit_code: str | None = None
    name: str | None = None

    def to_subject(self, field: str = "subject") -> Subject:
        """The validated subject.

        Raises:
            BadUserInput: both or neither identifier, or an invalid one; ``field``
                names the part to correct, e.g. ``subjects.3.residentId``.
        """
        if (self.resident_id is None) == (self.credit_code is None):
            raise BadUserInput("Give exactly one of residentId and creditCode.", field=field)
        if self.resident_id is not None:
            id_type, number, part = "resident_id", self.resident_id, "residentId"
        else:
            id_type, number, part = "uscc", self.credit_code or "", "creditCode"
        try:
            return parse_subject(id_type, number, self.name)
        except InvalidSubject as error:
            where = part if error.field == "id_number" else error.field
            raise BadUserInput(f"{where}: {error.reason}.", field=f"{field}.{where}") from None
