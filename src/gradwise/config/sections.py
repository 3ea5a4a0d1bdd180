"""The base of every config section, and value types shared by several sections."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Probability = Annotated[float, Field(ge=0.0, lt=1.0)]


class Section(BaseModel):
    """Base for every config section: no unknown keys, validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
