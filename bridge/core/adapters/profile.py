"""Legacy dialect profiles: one TOML file per LRM editor's dialect, parsed here from text.

A profile says everything that differs between two editors' 15-18 links, so a new
dialect is a new file, not new code: the adapter (``legacy-text`` or
``legacy-xml``), the encoding and framing, each legacy field's name, its
canonical target and the mapping table (or inline code list) that translates its
codes, how victims are laid out, and the link-level ack/nack frames the TCP
listener sends back. Parsing is pure (``tomllib.loads``); reading the file is
the edge's job (``bridge.refdata.profiles``).
"""

from __future__ import annotations

import tomllib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bridge.core.errors import BridgeError, Issue
from bridge.core.framing import FRAMINGS

FROZEN = ConfigDict(frozen=True, extra="forbid")
ENCODINGS = ("utf-8", "iso-8859-1", "cp1252")

# Canonical targets a legacy field may name; "extras.NAME" is also accepted.
TARGETS = frozenset({
    "case.case_id", "case.sender_case_id", "case.created", "case.version",
    "qualification.whats_happen", "qualification.location_kind", "qualification.health_motive",
    "qualification.risk_threats", "qualification.victims_count", "qualification.main_victim",
    "qualification.victims_text",
    "location.number", "location.street", "location.city", "location.insee", "location.country",
    "location.lat", "location.lon", "location.precision", "location.free_text",
    "caller.name", "caller.phone", "caller.type", "caller.free_text",
    "notes",
    "request.wanted", "request.request_id", "request.mission_type", "request.kind", "request.frame",
    "request.free_text", "request.resources",
    "answer.status", "answer.free_text", "answer.request_id",
})
REPEATED = frozenset({"qualification.risk_threats", "notes", "request.resources"})
PATIENT_PARTS = ("last_name", "first_name", "sex", "age", "free_text")


class FieldSpec(BaseModel):
    """One legacy field: its name (a key, a column or an XML path) and where it goes."""

    model_config = FROZEN

    key: str
    target: str
    table: str | None = None
    codes: dict[str, str] = {}
    required: bool = False
    true_value: str = "O"

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        if value not in TARGETS and not value.startswith("extras."):
            raise ValueError(f"unknown canonical target {value!r}")
        return value

    @property
    def repeated(self) -> bool:
        """Whether the field holds a list (repeated key, element or separated values)."""
        return self.target in REPEATED


class PatientsSpec(BaseModel):
    """Where victims are: ``indexed`` keys (``VICT1_NOM``), ``packed`` in one field, or XML elements."""

    model_config = FROZEN

    mode: Literal["indexed", "packed", "elements"] = "indexed"
    key: str
    parts: dict[str, str]
    item_separator: str = "|"
    part_separator: str = "/"
    sex_table: str | None = None
    """Mapping table (mappings/tables.toml) between the dialect's sex codes and ``HubSante.sexe``."""
    sex_codes: dict[str, str] = {}
    """Deprecated inline map (dialect code -> ``HubSante.sexe``), read only when ``sex_table`` is absent;
    ``bridge mappings lint`` warns about it. An unknown code passes through with an ``unmapped-code`` warning."""

    @field_validator("parts")
    @classmethod
    def _known_parts(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value.values()) - set(PATIENT_PARTS)
        if unknown:
            raise ValueError(f"unknown patient parts {sorted(unknown)}; choose from {', '.join(PATIENT_PARTS)}")
        return value

    @model_validator(mode="after")
    def _one_sex_map(self) -> PatientsSpec:
        if self.sex_table and self.sex_codes:
            raise ValueError("give sex_table or the deprecated inline sex_codes, not both")
        return self


class OperationsSpec(BaseModel):
    """Where missions and resources go (see :mod:`bridge.core.adapters.legacy_operations`).

    ``indexed``: ``resource_key``/``mission_key`` are key templates with ``{n}`` and
    ``{part}`` (``MOYEN_{n}_{part}``); ``elements``: they are element paths
    (``MOYENS/MOYEN``). ``*_parts`` rename parts (legacy name -> canonical part);
    ``state_table`` maps the legacy vehicle status to ``HubSante.statutVecteur``.
    """

    model_config = FROZEN

    mode: Literal["indexed", "elements"] = "indexed"
    resource_key: str
    mission_key: str
    resource_parts: dict[str, str] = {}
    mission_parts: dict[str, str] = {}
    state_table: str | None = None

    @model_validator(mode="after")
    def _known_parts(self) -> OperationsSpec:
        from bridge.core.adapters.legacy_operations import MISSION_PARTS, RESOURCE_PARTS

        for renames, vocabulary, what in ((self.resource_parts, RESOURCE_PARTS, "resource_parts"),
                                          (self.mission_parts, MISSION_PARTS, "mission_parts")):
            unknown = set(renames.values()) - set(vocabulary)
            if unknown:
                raise ValueError(f"{what}: unknown parts {sorted(unknown)}; choose from {', '.join(vocabulary)}")
        if self.mode == "indexed" and not all("{n}" in k and "{part}" in k
                                              for k in (self.resource_key, self.mission_key)):
            raise ValueError("indexed operations keys need {n} and {part} (e.g. MOYEN_{n}_{part})")
        return self


class TextSpec(BaseModel):
    """Record layout of ``legacy-text``: ``KEY=VALUE`` pairs or ``;``-delimited columns."""

    model_config = FROZEN

    style: Literal["keyvalue", "delimited"] = "keyvalue"
    pair_separator: str = "\r\n"
    assign: str = "="
    delimiter: str = ";"
    columns: tuple[str, ...] = ()


class XmlSpec(BaseModel):
    """Document shape of ``legacy-xml``: root element and the project XSD that validates it."""

    model_config = FROZEN

    root: str
    xsd: str
    root_attributes: dict[str, str] = {}
    xsd_text: str | None = None


class DatesSpec(BaseModel):
    """Plausibility window of the dates an LRM sends (the call date): year 9999 is no call date.

    A date more than ``max_past_days`` before the bridge's clock, or more than
    ``max_future_minutes`` after it, is refused with ``bad-date`` naming the line.
    The clock is the adapter context's ``now`` (injected; the core never reads one).
    The defaults catch impossible dates (year 9999, a typo in the year, an LRM clock
    reset to 1970) without refusing a late update of an old case; a site may tighten them.
    """

    model_config = FROZEN

    max_past_days: int = Field(default=3650, ge=1, le=36_500)
    max_future_minutes: int = Field(default=60, ge=0, le=527_040)


class AckSpec(BaseModel):
    """Link-level acknowledgement frames (``{id}``, ``{code}``, ``{reason}`` are filled in)."""

    model_config = FROZEN

    ack: str = "ACK;{id}"
    nack: str = "NACK;{id};{code};{reason}"
    # an ack that also carries a warning ({reason}: what was altered); empty = the dialect has no way,
    # and the plain ack is sent (the warning is still in the message history, metrics and logs)
    ack_warning: str = ""


class Profile(BaseModel):
    """One editor's dialect of a legacy adapter."""

    model_config = FROZEN

    name: str
    adapter: Literal["legacy-text", "legacy-xml", "rs-eda-json", "rs-eda-xml"]
    """``rs-eda-*``: an LRM that already speaks the health model (docs/health.md); ``fields`` stay empty."""
    editor: str = ""
    description: str = ""
    encoding: str = "utf-8"
    framing: str = "newline"
    max_frame: int = 65536
    timezone: str = "Europe/Paris"
    datetime_format: str = "iso"
    list_separator: str = "|"
    fields: tuple[FieldSpec, ...]
    patients: PatientsSpec | None = None
    operations: OperationsSpec | None = None
    text: TextSpec | None = None
    xml: XmlSpec | None = None
    ack: AckSpec = AckSpec()
    dates: DatesSpec = DatesSpec()

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value.lower() not in ENCODINGS:
            raise ValueError(f"encoding {value!r} is not one of {', '.join(ENCODINGS)}")
        return value.lower()

    @field_validator("framing")
    @classmethod
    def _known_framing(cls, value: str) -> str:
        if value not in FRAMINGS:
            raise ValueError(f"framing {value!r} is not one of {', '.join(FRAMINGS)}")
        return value

    @model_validator(mode="after")
    def _adapter_section(self) -> Profile:
        if self.adapter == "legacy-xml" and self.xml is None:
            raise ValueError("a legacy-xml profile needs an [xml] section (root, xsd)")
        if self.adapter == "legacy-text" and self.text is None:
            object.__setattr__(self, "text", TextSpec())
        if self.adapter.startswith("rs-eda") and (self.fields or self.text or self.xml or self.patients):
            raise ValueError("a health-model profile (rs-eda-*) maps nothing itself: no fields, text, xml or patients")
        if self.text and self.text.style == "delimited" and not self.text.columns:
            raise ValueError("a delimited legacy-text profile needs text.columns")
        if self.operations is not None:
            wanted = "elements" if self.adapter == "legacy-xml" else "indexed"
            if self.operations.mode != wanted or (self.text and self.text.style == "delimited"):
                raise ValueError(f"{self.adapter} profiles carry operations as {wanted!r} "
                                 "(a delimited text profile cannot carry them)")
        return self

    @property
    def text_spec(self) -> TextSpec:
        """The ``[text]`` section: always set on a legacy-text profile (``_adapter_section``)."""
        if self.text is None:
            raise BridgeError(f"profile {self.name} has no [text] section", [Issue("text", "missing", "bad-profile")])
        return self.text

    @property
    def xml_spec(self) -> XmlSpec:
        """The ``[xml]`` section: always set on a legacy-xml profile (``_adapter_section``)."""
        if self.xml is None:
            raise BridgeError(f"profile {self.name} has no [xml] section", [Issue("xml", "missing", "bad-profile")])
        return self.xml

    def ack_frame(self, message_id: str) -> bytes:
        """The link-level ack payload for one received message (unframed, in the link's encoding)."""
        return self.ack.ack.format(id=message_id).encode(self.encoding, errors="replace")

    def nack_frame(self, message_id: str, code: int | str, reason: str) -> bytes:
        """The link-level nack payload: the message id, a Hub error code and a one-line reason."""
        flat = " ".join(reason.split())[:200]
        return self.ack.nack.format(id=message_id, code=code, reason=flat).encode(self.encoding, errors="replace")

    def field_for(self, target: str) -> FieldSpec | None:
        """The first field mapped to ``target``."""
        return next((f for f in self.fields if f.target == target), None)


def parse_profile(text: str, source: str = "profile.toml") -> Profile:
    """Parse and validate a profile; every defect is an Issue naming ``source`` and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BridgeError(f"profile {source} is not valid TOML: {exc}",
                          [Issue(source, str(exc), "bad-profile")]) from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        issues = [Issue(f"{source}:{'.'.join(str(p) for p in err['loc'])}", err["msg"], "bad-profile")
                  for err in exc.errors()]
        raise BridgeError(f"profile {source} is invalid", issues) from None
