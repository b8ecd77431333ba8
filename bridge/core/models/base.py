"""The one configuration every Hub message model shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class HubModel(BaseModel):
    """Frozen, closed (unknown keys rejected, as ``additionalProperties: false``), aliased to the JSON keys.

    Patterns run on pydantic's default Rust engine, whose ``$`` is the end of
    the text as in JSON Schema (Python's ``re`` would also accept a trailing
    newline); the generator spells ``\\d`` as ``[0-9]`` for the same reason.

    Python names are snake_case; the JSON keys are the aliases, accepted on
    input (as are the Python names) and used on output.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        serialize_by_alias=True,
        allow_inf_nan=False,
    )

    def to_hub(self) -> dict[str, Any]:
        """The canonical Hub dict: JSON keys, absent optionals omitted, Decimals kept, dates as strict text."""
        return self.model_dump(by_alias=True, exclude_none=True)


class OpenHubModel(HubModel):
    """A model whose JSON Schema object does not forbid extra keys; extras are kept, not dropped."""

    model_config = ConfigDict(extra="allow")
