"""The base of every typed result, and the rows analysts take as a DataFrame."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, TypeAdapter
from pydantic_core import core_schema

if TYPE_CHECKING:
    import pandas as pd

RowT = TypeVar("RowT", bound="Result")


class Result(BaseModel):
    """A typed result: frozen, and strict about its keys (an unknown or missing key is
    an error where the result is made). ``to_dict`` gives the keys the document was made
    with (an optional key it lacked stays absent), as ``--json`` prints them."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    def to_json(self) -> str:
        """The document as ``--json`` prints it: indented, keys sorted."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the document (``docs/schemas/``)."""
        return cls.model_json_schema(mode="serialization")


class Rows(tuple[RowT, ...]):
    """A result's rows: a tuple of typed rows that also gives a DataFrame
    (``to_frame``: one row each, nested fields flattened as ``layout.tp``). A command
    that prints a list (``arbiter catalog offers --json``) prints ``to_json()``."""

    __slots__ = ()

    def to_list(self) -> list[dict[str, Any]]:
        """Every row's document, in order."""
        return [r.to_dict() for r in self]

    def to_json(self) -> str:
        """The rows as ``--json`` prints a list: indented, keys sorted."""
        return json.dumps(self.to_list(), indent=2, sort_keys=True)

    @staticmethod
    def json_schema(row: type[Result]) -> dict[str, Any]:
        """The JSON Schema of a list of ``row`` documents (``docs/schemas/``)."""
        return TypeAdapter(list[row]).json_schema(mode="serialization")  # type: ignore[valid-type]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # noqa: PLC0415 - pandas is loaded when a frame is asked for

        return pd.json_normalize([r.model_dump(mode="json", exclude_unset=True) for r in self])

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        (item,) = get_args(source) or (Any,)
        return core_schema.no_info_after_validator_function(
            cls,
            handler.generate_schema(tuple[item, ...]),  # type: ignore[valid-type]
        )
