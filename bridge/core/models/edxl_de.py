"""EDXL-DE envelope model, in the JSON shape the Hub uses (``content[].jsonContent``).

Hand-written: the official envelope XSD is the general OASIS one (with XML-only
content elements), so the Hub's JSON Schema is the reference for this shape and
the XSD only for the field order. ``message`` stays a dict: it holds the RC-DE
header plus one payload, which :mod:`bridge.core.edxl` splits and validates.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictStr

from bridge.core.models.base import HubModel, OpenHubModel
from bridge.core.models.types import LenientHubDateTime

DistributionKind = Literal["Report", "Update", "Cancel", "Ack", "Error"]
DistributionStatus = Literal["Actual", "Exercise"]


class ExplicitAddress(HubModel):
    """Recipient address: scheme ``hubex``, value = the recipient's client ID."""

    explicit_address_scheme: StrictStr = Field(alias="explicitAddressScheme")
    explicit_address_value: StrictStr = Field(alias="explicitAddressValue")


class Descriptor(HubModel):
    """Language and recipient of the distribution."""

    language: StrictStr
    explicit_address: ExplicitAddress = Field(alias="explicitAddress")


class EmbeddedJsonContent(OpenHubModel):
    """Holds ``message``: the RC-DE header fields and one payload key (open in the Hub schema)."""

    message: dict[str, Any]


class JsonContent(OpenHubModel):
    """Wrapper level of the Hub JSON envelope (open in the Hub schema)."""

    embedded_json_content: EmbeddedJsonContent = Field(alias="embeddedJsonContent")


class ContentObject(OpenHubModel):
    """One content object; the Hub uses exactly one (open in the Hub schema)."""

    json_content: JsonContent = Field(alias="jsonContent")


class EdxlDistribution(HubModel):
    """The full EDXL-DE envelope; dates also accept lossless XSD forms (``Z``) and are written strictly."""

    distribution_id: StrictStr = Field(alias="distributionID")
    sender_id: StrictStr = Field(alias="senderID")
    date_time_sent: LenientHubDateTime = Field(alias="dateTimeSent")
    date_time_expires: LenientHubDateTime = Field(alias="dateTimeExpires")
    distribution_status: DistributionStatus = Field(alias="distributionStatus")
    distribution_kind: DistributionKind = Field(alias="distributionKind")
    descriptor: Descriptor
    content: list[ContentObject] = Field(min_length=1)
