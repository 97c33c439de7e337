"""The base of every record type: closed, strict, finite."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A closed part of the result file.

    Strict: no string where a number belongs, no 1 where a boolean belongs;
    closed: a key the format does not define is refused; finite: NaN and
    infinities are refused.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, validate_default=False,
                              populate_by_name=False, use_enum_values=True)

    def to_json(self) -> dict[str, Any]:
        """This part as plain JSON values (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)
