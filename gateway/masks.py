"""Masks: what a field shows when a policy allows only ``readMasked``.

One function per mask kind of :data:`connectors.catalog.MaskKind`, chosen by the
field's ``mask`` in the catalog. Each keeps just enough for an officer to tell
records apart (the last digits of an account, the surname, the district) and
hides what identifies or locates a person. Masks fail closed: a value that does
not have the expected shape is hidden entirely.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from connectors.catalog import MaskKind

__all__ = [
    "COMPOUND_SURNAMES",
    "MASKS",
    "apply_mask",
    "mask_account_number",
    "mask_address",
    "mask_date_month",
    "mask_document_number",
    "mask_name",
    "mask_resident_id",
]

HIDDEN = "*"
_HIDDEN_TAIL = "****"  # A fixed-length tail does not reveal how long the hidden part is.

_COMPOUND = (  # Two characters each.
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒令狐夏侯轩辕端木"
    "独孤南宫西门百里呼延澹台公冶太史申屠闻人钟离宗政濮阳淳于单于赫连"
    "万俟司空拓跋东郭第五公羊羊舌梁丘左丘东门谷梁段干颛孙亓官司寇巫马"
    "子车壤驷乐正漆雕公良仲孙叔孙"
)
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    _COMPOUND[i : i + 2] for i in range(0, len(_COMPOUND), 2)
)
"""Two-character surnames (复姓) that a name mask keeps whole."""

# Province-level: provinces, autonomous regions, the four municipalities, the SARs.
_PROVINCE = r"(?:[^\d\s省]{2,7}?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)"
# Prefecture level: a city, autonomous prefecture, prefecture or league.
_CITY = r"(?:[^\d\s省]{1,9}?(?:自治州|地区|盟|市))"
# County level: a district, county, county-level city or banner.
_DISTRICT = r"(?:[^\d\s省]{1,9}?(?:区|县|市|旗))"
_ADDRESS_PREFIX = re.compile(rf"^(?:{_PROVINCE})?(?:{_CITY})?(?:{_DISTRICT})?")
_ISO_MONTH = re.compile(r"^(\d{4}-\d{2})(?:-\d{2}(?:[T ].*)?)?$")


def mask_account_number(value: str) -> str:
    """Keep the last four digits: ``6222021234567890`` → ``************7890``."""
    compact = "".join(value.split())
    if len(compact) <= 4:
        return HIDDEN * len(compact)
    return HIDDEN * (len(compact) - 4) + compact[-4:]


def mask_resident_id(value: str) -> str:
    """Keep the region code and the last four: ``410823********123X``.

    The first six digits only say where the number was issued; the birth date
    and sequence in the middle are what identify a person.
    """
    compact = "".join(value.split()).upper()
    if len(compact) < 15:  # Not an ID number at all: hide it.
        return HIDDEN * len(compact)
    return compact[:6] + HIDDEN * (len(compact) - 10) + compact[-4:]


def mask_name(value: str) -> str:
    """Keep the surname: ``张伟`` → ``张*``, ``欧阳娜娜`` → ``欧阳**``.

    Compound surnames from :data:`COMPOUND_SURNAMES` are kept whole when a given
    name follows. Names of minorities written with a middle dot
    (``买买提·艾力``) have no surname: only their first character is kept.
    """
    name = value.strip()
    if not name:
        return ""
    if "·" in name or " " in name:
        return name[0] + "".join(c if c in "· " else HIDDEN for c in name[1:])
    keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    if len(name) <= keep:
        return HIDDEN * len(name)
    return name[:keep] + HIDDEN * (len(name) - keep)


def mask_address(value: str) -> str:
    """Stop at the county level: ``河南省焦作市武陟县龙源路12号`` → ``河南省焦作市武陟县****``."""
    address = value.strip()
    prefix = _ADDRESS_PREFIX.match(address)
    kept = prefix.group(0) if prefix else ""
    if kept == address:
        return kept
    return kept + _HIDDEN_TAIL


def mask_date_month(value: str) -> str:
    """Keep year and month: ``1990-05-17`` → ``1990-05`` (also for ISO date-times)."""
    match = _ISO_MONTH.match(value.strip())
    return match.group(1) if match else _HIDDEN_TAIL


def mask_document_number(value: str) -> str:
    """Keep the last four characters: ``LSVAM4187C2184467`` → ``*************4467``.

    Enough to match a VIN or passport number the officer already holds; the
    rest (maker, series, issuing batch) is hidden.
    """
    compact = "".join(value.split()).upper()
    if len(compact) <= 4:
        return HIDDEN * len(compact)
    return HIDDEN * (len(compact) - 4) + compact[-4:]


MASKS: Mapping[MaskKind, Callable[[str], str]] = MappingProxyType(
    {
        "account_number": mask_account_number,
        "resident_id": mask_resident_id,
        "name": mask_name,
        "address": mask_address,
        "date_month": mask_date_month,
        "document_number": mask_document_number,
    }
)
"""The function for each mask kind of the catalog."""


def apply_mask(kind: MaskKind, value: object) -> str | None:
    """Mask one value with the mask of ``kind``.

    ``None`` stays ``None`` (nothing to hide); any other non-string value is
    hidden entirely rather than shown unmasked.

    Raises:
        KeyError: ``kind`` is not a mask kind.
    """
    mask = MASKS[kind]
    if value is None:
        return None
    if not isinstance(value, str):
        return _HIDDEN_TAIL
    return mask(value)
