"""The options each rule function accepts, checked strictly with pydantic.

Unknown options, wrong types and impossible combinations are rejected; the
errors are turned into positioned diagnostics by ``pydantic_errors``. The
field being checked is passed in the validation context as ``given``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .model import LIST_FIELDS
from .regexes import compile_regex
from .secrets import DetectorKind

NonNegative = Annotated[int, Field(ge=0)]


def _not_blank(word: str) -> str:
    if not word.strip():
        raise ValueError("a forbidden word must not be blank; remove it")
    return word


NonBlank = Annotated[str, AfterValidator(_not_blank)]


class FunctionOptions(BaseModel):
    """Base for option models: strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _given(info: ValidationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    return str(context.get("given", ""))


class RequiredOptions(FunctionOptions):
    """``required`` takes no options."""


class LengthOptions(FunctionOptions):
    """Bounds on characters, lines or items, plus exact lengths to forbid."""

    min: NonNegative | None = None
    max: NonNegative | None = None
    unit: Literal["characters", "lines", "items"] | None = None
    forbid: list[NonNegative] = Field(default_factory=list)

    @field_validator("unit")
    @classmethod
    def _unit_fits_field(cls, unit: str | None, info: ValidationInfo) -> str | None:
        given = _given(info)
        if unit == "items" and given and given not in LIST_FIELDS:
            raise ValueError(f"unit 'items' counts list entries, but '{given}' is text; use characters or lines")
        if unit in ("characters", "lines") and given in LIST_FIELDS:
            raise ValueError(f"unit '{unit}' counts text, but '{given}' is a list; use items")
        return unit

    @model_validator(mode="after")
    def _bounds(self) -> LengthOptions:
        if self.min is None and self.max is None and not self.forbid:
            raise ValueError("length needs at least one of 'min', 'max' or 'forbid'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max}); swap them")
        return self


class PatternOptions(FunctionOptions):
    """RE2 patterns the field must match and/or must not match."""

    match: str | None = None
    not_match: str | None = Field(default=None, alias="notMatch")

    @field_validator("match", "not_match")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            compile_regex(pattern)
        return pattern

    @model_validator(mode="after")
    def _needs_one(self) -> PatternOptions:
        if self.match is None and self.not_match is None:
            raise ValueError("pattern needs 'match', 'notMatch' or both")
        return self


class EnumerationOptions(FunctionOptions):
    """The allowed values (every list item must be one of them)."""

    values: list[str] = Field(min_length=1)


class ForbiddenWordsOptions(FunctionOptions):
    """Words or phrases that must not appear as whole words."""

    words: list[NonBlank] = Field(min_length=1)
    case_sensitive: bool = Field(False, alias="caseSensitive")


class SecretsOptions(FunctionOptions):
    """Which secret detectors to run and an optional entropy threshold."""

    detectors: list[DetectorKind] | None = Field(default=None, min_length=1)
    min_entropy: float | None = Field(default=None, alias="minEntropy", gt=0, le=8)


class UniqueOptions(FunctionOptions):
    """``unique`` takes no options."""


class MaxRecipientsOptions(FunctionOptions):
    """The most recipients one message may name."""

    max: NonNegative


def option_keys(model: type[BaseModel]) -> list[str]:
    """The option names a model accepts, as written in rule files."""
    return [info.alias or name for name, info in model.model_fields.items()]


def dump_options(options: BaseModel) -> dict[str, Any]:
    """The options as written in rule files, without unset values."""
    return options.model_dump(by_alias=True, exclude_unset=True)
