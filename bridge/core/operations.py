"""The canonical operations of a case: the missions and the resources engaged on them.

Two Hub messages carry operations in the 15-NexSIS perimeter: the EMSI "opération
globale" (``MISSION`` and ``RESOURCE`` lists) and the CISU RC-RI
(``resourcesInfoCisu``: each engaged vehicle with its team, status, position and
times). This module holds what they say, frozen and sans-IO; the adapters map to and
from it (``bridge.core.adapters.emsi_operations``, ``bridge.core.adapters.rc_ri``,
``bridge.core.adapters.legacy_operations``).

Codes are kept in the vocabulary of the message that carried them, never translated
between the two: an EMSI resource status (``AVAILB``, ``UNAV``, ...) lives in
:attr:`Resource.status`, an RC-RI vehicle status (``HubSante.statutVecteur``:
``DECLENCHE``, ``ARRIVEE``, ...) in :attr:`Resource.state`. The lists are not
equivalent (EMSI says whether a unit is available, RC-RI where it is in the
intervention), so a conversion would invent meaning.

Identifiers are the senders' (``resourceId``, EMSI ``ID``): :func:`merge_operations`
folds a later message onto an earlier one by those ids, which is what "a resource
status update" means on the LRM's case sheet.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from bridge.core.numbers import coordinate_problem, number_problem

M = TypeVar("M", bound=BaseModel)
FROZEN = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")


class Coord(BaseModel):
    """A WGS84 point, exact decimals (``HEIGHT`` in metres when given)."""

    model_config = FROZEN

    lat: Decimal
    lon: Decimal
    height: Decimal | None = None

    @field_validator("lat", "lon")
    @classmethod
    def _degrees(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return _in_degrees(value, info)

    @field_validator("height")
    @classmethod
    def _bounded(cls, value: Decimal | None) -> Decimal | None:
        return _bounded_number(value)


class Place(BaseModel):
    """An EMSI ``POSITION``: a named place, its coordinates and address lines."""

    model_config = FROZEN

    loc_id: str | None = None
    name: str | None = None
    type: str | None = None
    height_role: str | None = None
    coordsys: str | None = None
    coords: tuple[Coord, ...] = ()
    address: tuple[str, ...] = ()


class Mission(BaseModel):
    """One EMSI ``MISSION`` of the partner's operation (``#OPERATION_GLOBALE#``, ``#MISSION#``...)."""

    model_config = FROZEN

    mission_id: str
    type: str
    name: str
    status: str
    org_id: str | None = None
    free_text: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    priority: str | None = None
    resource_ids: tuple[str, ...] = ()
    parent_ids: tuple[str, ...] = ()
    child_ids: tuple[str, ...] = ()
    main_id: str | None = None
    place: Place | None = None


class Contact(BaseModel):
    """A way to reach a resource: EMSI ``CONTACTS`` (TYPE/DETAIL) or RC-RI ``contact`` (type/details)."""

    model_config = FROZEN

    type: str
    detail: str


class State(BaseModel):
    """An RC-RI vehicle status (``HubSante.statutVecteur``), when it changed, and availability."""

    model_config = FROZEN

    status: str
    time: datetime
    available: bool | None = None


class Fix(BaseModel):
    """An RC-RI last known position: when, where, how fast (km/h)."""

    model_config = FROZEN

    time: datetime
    lat: Decimal
    lon: Decimal
    speed: Decimal | None = None

    @field_validator("lat", "lon")
    @classmethod
    def _degrees(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return _in_degrees(value, info)

    @field_validator("speed")
    @classmethod
    def _bounded(cls, value: Decimal | None) -> Decimal | None:
        return _bounded_number(value)


class Resource(BaseModel):
    """One engaged resource (a vehicle, a team), as EMSI ``RESOURCE`` and RC-RI ``resource`` describe it.

    EMSI-only: ``classes`` (``RTYPE.RCLASS``), ``capabilities``, ``characteristics``,
    ``quantity``/``unit``, ``status`` (EMSI resource status), ``nationality``.
    RC-RI-only: ``engaged`` (``datetime``), ``vehicle_type``, ``team_name``,
    ``medical_level``, ``state``, ``fix``, request/mission/operation ids, centre
    (RS-RI carries the same, but a list of statuses -- ``history`` + ``state`` -- and no ``fix``).
    Shared: id, name, organisation, free text, contacts.
    """

    model_config = FROZEN

    resource_id: str
    name: str | None = None
    org_id: str | None = None
    free_text: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    classes: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    characteristics: tuple[str, ...] = ()
    quantity: Decimal | None = None
    unit: str | None = None
    status: str | None = None
    nationality: str | None = None
    engaged: datetime | None = None
    vehicle_type: str | None = None
    team_name: str | None = None
    medical_level: str | None = None
    state: State | None = None
    history: tuple[State, ...] = ()
    """Earlier statuses, oldest first (RS-RI lists a resource's statuses; ``state`` is the last one)."""
    fix: Fix | None = None
    request_id: str | None = None
    mission_id: str | None = None
    operation_id: str | None = None
    center_name: str | None = None
    center_city: str | None = None

    @field_validator("quantity")
    @classmethod
    def _bounded(cls, value: Decimal | None) -> Decimal | None:
        return _bounded_number(value)

    @property
    def latest(self) -> State | None:
        """The current status: the latest by time of ``state`` and ``history`` (a tie: ``state``).

        RS-RI lists a resource's statuses in no set order (the official examples put the
        newest first); the list is kept as received, and this is the one RC-RI carries.
        """
        statuses = [*((self.state,) if self.state is not None else ()), *reversed(self.history)]
        return max(statuses, key=lambda s: s.time) if statuses else None


class Operations(BaseModel):
    """The missions and resources of a case, in the order their senders gave them."""

    model_config = FROZEN

    missions: tuple[Mission, ...] = ()
    resources: tuple[Resource, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missions or self.resources)


def _in_degrees(value: Decimal, info: ValidationInfo) -> Decimal:
    """WGS84 degrees in range, finite and bounded (the same rule as the case's own location)."""
    reason = coordinate_problem(value, info.field_name or "lat")
    if reason:
        raise ValueError(reason)
    return value


def _bounded_number(value: Decimal | None) -> Decimal | None:
    problem = number_problem(value)
    if problem:
        raise ValueError(problem[1])
    return value


def merge_operations(base: Operations | None, update: Operations | None) -> Operations | None:
    """``update`` folded onto ``base``: same id -> the update's fields win where it sets them; new ids appended.

    Messages of one case are applied in the order the bridge received them, so
    the last status received is the one shown. A field the update leaves unset
    keeps its earlier value (an RC-RI status update does not erase the EMSI
    class of the same vehicle).
    """
    if not update:
        return base
    if not base:
        return update
    return Operations(missions=_merge(base.missions, update.missions, "mission_id"),
                      resources=_merge(base.resources, update.resources, "resource_id"))


def _merge(old: tuple[M, ...], new: tuple[M, ...], key: str) -> tuple[M, ...]:
    merged: dict[str, M] = {getattr(item, key): item for item in old}
    for item in new:
        earlier = merged.get(getattr(item, key))
        if earlier is None:
            merged[getattr(item, key)] = item
        else:
            changes = {name: value for name, value in item if name in item.model_fields_set and value not in (None, ())}
            merged[getattr(item, key)] = earlier.model_copy(update=changes)
    return tuple(merged.values())


class StatusMerge(BaseModel):
    """What :func:`merge_status` made of one status message: the case's resources now, and what changed.

    ``resources`` is every resource known for the case, each with its latest status;
    ``changed`` the ids whose current status this message replaced; ``stale`` the ids for
    which it repeated the status already known (nothing to send); ``unknown`` the ids the
    case has no resource for (nothing is invented for them: the caller refuses the message).
    """

    model_config = FROZEN

    resources: tuple[Resource, ...] = ()
    changed: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def merge_status(known: Operations | None, update: Operations) -> StatusMerge:
    """``update``'s resource statuses (an RS-SR: id + status) folded onto the case's ``known`` resources.

    The national converter's merge, without its losses: each resource keeps everything
    known about it (engagement time, vehicle type, team...), and its status becomes the
    one received last -- the sender's order, not the times it writes: the official story
    itself sends ``DEPART`` (13:21) after the RS-RI's ``DECLENCHE`` (13:22). The merged
    resource has no ``history`` (the caller reports the status replaced). A status the
    resource already has (same code, same time) changes nothing (``stale``: a repeat). A resource the case does not know is listed in
    ``unknown`` and not added: a status alone has no engagement time nor vehicle type, and
    none is made up.
    """
    resources = {res.resource_id: res for res in (known.resources if known else ())}
    changed: list[str] = []
    stale: list[str] = []
    unknown: list[str] = []
    for new in update.resources:
        earlier = resources.get(new.resource_id)
        if earlier is None:
            unknown.append(new.resource_id)
            continue
        current = new.latest
        before = earlier.latest
        if current is None or _same_status(current, before):
            stale.append(new.resource_id)
            continue
        changed.append(new.resource_id)
        # no history: the received order is the truth here, and RC-RI (which takes the latest by time of a
        # resource's statuses) carries the current one only; the caller reports the status replaced
        resources[new.resource_id] = earlier.model_copy(update={"state": current, "history": ()})
    return StatusMerge(resources=tuple(resources.values()), changed=tuple(changed), stale=tuple(stale),
                       unknown=tuple(unknown))


def _same_status(a: State | None, b: State | None) -> bool:
    """The same status at the same instant (an availability flag left out by one message is not a change)."""
    if a is None or b is None:
        return a is b
    return a.status == b.status and a.time == b.time and (a.available is None or b.available is None
                                                           or a.available == b.available)
