"""Typed refusals of control measures, each with a stable code.

    MeasureRefused (FORBIDDEN family)     base; ``reason`` in extensions
    ├── RulingRequired        RULING_REQUIRED: no ruling (裁定书) or notice named
    ├── AssetNotInvestigated  ASSET_NOT_INVESTIGATED: the case's investigation never
    │                         returned this asset for this subject
    ├── AlreadyUnderMeasure   ALREADY_UNDER_MEASURE: the asset is frozen/sealed already;
    │                         ``existingMeasureId`` names the measure
    ├── AmountOverLimit       AMOUNT_OVER_LIMIT: over the frozen amount or the claim;
    │                         ``limit`` says the most allowed
    ├── PeriodOverLimit       PERIOD_OVER_LIMIT: longer than the law allows
    ├── MeasureNotInForce     MEASURE_NOT_IN_FORCE: expired, released, rejected, pending
    ├── MeasureNotApplicable  MEASURE_NOT_APPLICABLE: the kind does not fit the asset
    └── RequestIdConflict     REQUEST_ID_CONFLICT: the request id was used for another request

Every refusal changes nothing: it is raised before anything is stored or sent.
"""

from __future__ import annotations

from gateway.errors import BadUserInput, CredgateError

__all__ = [
    "AlreadyUnderMeasure",
    "AmountOverLimit",
    "AssetNotInvestigated",
    "MeasureNotApplicable",
    "MeasureNotInForce",
    "MeasureRefused",
    "PeriodOverLimit",
    "RequestIdConflict",
    "RulingRequired",
]


class MeasureRefused(CredgateError):
    """A measure the law or the case does not allow; nothing was stored or sent."""

    code = "MEASURE_REFUSED"


class RulingRequired(BadUserInput):
    """A measure must name its ruling and its assistance notice, with number and date."""

    code = "RULING_REQUIRED"


class AssetNotInvestigated(MeasureRefused):
    """Measures are ordered only on assets an investigation of the case returned."""

    code = "ASSET_NOT_INVESTIGATED"


class AlreadyUnderMeasure(MeasureRefused):
    """The asset already carries a measure of this kind (named in ``existingMeasureId``)."""

    code = "ALREADY_UNDER_MEASURE"


class AmountOverLimit(MeasureRefused):
    """More than the freeze holds or the case's outstanding claim."""

    code = "AMOUNT_OVER_LIMIT"


class PeriodOverLimit(MeasureRefused):
    """A freeze or seal longer than the law allows for the asset's class."""

    code = "PERIOD_OVER_LIMIT"


class MeasureNotInForce(MeasureRefused):
    """The measure acted on is expired, released, rejected or not yet executed."""

    code = "MEASURE_NOT_IN_FORCE"


class MeasureNotApplicable(MeasureRefused):
    """The kind of measure does not apply to this asset or to the measure acted on."""

    code = "MEASURE_NOT_APPLICABLE"


class RequestIdConflict(MeasureRefused):
    """The request id was used before for a different request."""

    code = "REQUEST_ID_CONFLICT"
