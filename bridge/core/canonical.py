"""The bridge's canonical case: the meeting point of every format.

Every adapter decodes its bytes into a :class:`Case` and encodes a :class:`Case`
back into bytes, so N formats need N adapters, not N x N translators. The model
is deliberately *not* the RC-EDA model: it holds what at least two formats can
carry (qualification in CISU codes, location, caller, notes, victims, request for
assistance and its answer), plus ``extras`` for named values a format wants to
round-trip through another, and ``dropped`` for what could not be kept.

Codes are held in the CISU referential (``C..``, ``L..``, ``M..``, ``R..``):
legacy and EMSI adapters map their own codes to and from it through the mapping
tables, so the tables are the only place where dialects differ.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.core.errors import Issue
from bridge.core.numbers import coordinate_problem
from bridge.core.operations import Operations

FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")


class Coded(BaseModel):
    """A code of a list and, when known, its label."""

    model_config = FROZEN

    code: str
    label: str | None = None


class Qualification(BaseModel):
    """What is happening, where, why health is involved, the risks and the victims (CISU)."""

    model_config = FROZEN

    whats_happen: Coded | None = None
    location_kind: Coded | None = None
    health_motive: Coded | None = None
    risk_threats: tuple[Coded, ...] = ()
    victims_count: str | None = None
    main_victim: str | None = None
    victims_text: str | None = None


class Location(BaseModel):
    """Where: address parts, city and INSEE code, WGS84 coordinates kept as exact decimals."""

    model_config = FROZEN

    loc_id: str | None = None
    number: str | None = None
    street: str | None = None
    city: str | None = None
    insee: str | None = None
    country: str = "FR"
    lat: Decimal | None = None
    lon: Decimal | None = None
    precision: str | None = None
    free_text: str | None = None

    @field_validator("lat", "lon")
    @classmethod
    def _degrees(cls, value: Decimal | None, info: object) -> Decimal | None:
        """Every case, whichever way it travels, holds WGS84 degrees in range (and finite, bounded numbers)."""
        reason = coordinate_problem(value, getattr(info, "field_name", "lat"))
        if reason:
            raise ValueError(reason)
        return value


class Caller(BaseModel):
    """Who called and how to call them back."""

    model_config = FROZEN

    name: str | None = None
    phone: str | None = None
    type: str | None = None
    free_text: str | None = None


class Note(BaseModel):
    """A free-text observation and when it was written."""

    model_config = FROZEN

    text: str
    created: datetime | None = None


class Patient(BaseModel):
    """One victim or patient as the call-taker knows them."""

    model_config = FROZEN

    last_name: str | None = None
    first_name: str | None = None
    sex: str | None = None
    age: int | None = None
    free_text: str | None = None


class AssistanceRequest(BaseModel):
    """A request for assistance ("demande de concours") to the fire services or to the SAMU.

    ``mission_type`` is an EMSI ``MISSION.TYPE`` code; ``kind`` and ``frame`` are the
    second and third parts of the ``#DEMANDE_CONCOURS#kind#frame#`` mission name.
    """

    model_config = FROZEN

    request_id: str | None = None
    mission_type: str | None = None
    kind: str = "AUTRE"
    frame: str | None = None
    free_text: str | None = None
    resources: tuple[str, ...] = ()


class AssistanceAnswer(BaseModel):
    """The answer to a request for assistance, in the canonical EMSI spelling.

    ``status`` is ACCEPTE, REFUS, PARTIELLE, DIVERGENTE or DIFFEREE (the ``answer-aliases``
    table folds the other spellings seen in the field into these).
    """

    model_config = FROZEN

    status: str
    free_text: str | None = None
    request_id: str | None = None
    mission_type: str | None = None


class Case(BaseModel):
    """One emergency case as every format sees it; ``dropped`` lists what a decoder could not keep.

    ``operations`` holds the partner's missions and engaged resources (EMSI OPG, RC-RI),
    see :mod:`bridge.core.operations`.
    """

    model_config = FROZEN

    case_id: str | None = None
    sender_case_id: str | None = None
    version: int = 1
    created: datetime | None = None
    qualification: Qualification = Qualification()
    location: Location = Location()
    caller: Caller | None = None
    notes: tuple[Note, ...] = ()
    patients: tuple[Patient, ...] = ()
    request: AssistanceRequest | None = None
    answer: AssistanceAnswer | None = None
    operations: Operations | None = None
    extras: dict[str, str] = Field(default_factory=dict)
    dropped: tuple[Issue, ...] = ()
