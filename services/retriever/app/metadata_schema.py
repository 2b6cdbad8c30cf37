"""The metadata fields a search may filter on, declared in settings with their types.

Only declared fields are filterable: each gets a payload index (so a filter never scans a tenant's
points), and a filter's value is checked against the declared type before it reaches Qdrant (a
string compared with an integer field would silently match nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ragmesh_kit.domain import MetadataFilter
from ragmesh_kit.errors import InvalidArgument

FieldType = Literal["keyword", "int", "float", "bool", "datetime"]
FIELD_TYPES: tuple[FieldType, ...] = ("keyword", "int", "float", "bool", "datetime")


def parse_declared_fields(spec: str) -> dict[str, FieldType]:
    """``"year:int,lang:keyword,published:datetime"`` -> {"year": "int", ...}; raises ValueError on a
    malformed entry so a bad setting stops the service at start-up, not at the first search."""
    fields: dict[str, FieldType] = {}
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        name, sep, kind = (piece.strip() for piece in entry.partition(":"))
        if not sep or not name or kind not in FIELD_TYPES:
            raise ValueError(f"metadata field {entry!r}: write <name>:<type>, type one of {', '.join(FIELD_TYPES)}")
        fields[name] = kind
    return fields


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class MetadataSchema:
    fields: Mapping[str, FieldType]

    def describe(self) -> str:
        return ", ".join(f"{name} ({kind})" for name, kind in sorted(self.fields.items())) or "none"

    def validate(self, filters: Sequence[MetadataFilter]) -> None:
        for item in filters:
            kind = self.fields.get(item.field)
            if kind is None:
                raise InvalidArgument(
                    f"metadata field {item.field!r} is not filterable; declared fields: {self.describe()}"
                )
            problem = _type_problem(kind, item)
            if problem:
                raise InvalidArgument(f"filter on {item.field!r} ({kind}): {problem}")


def _type_problem(kind: FieldType, item: MetadataFilter) -> str:
    """Why the filter does not fit the field's type, or "" when it does."""
    value = item.equals
    if item.any_of is not None:
        return "" if kind == "keyword" else "any_of takes strings; it fits keyword fields only"
    if item.range is not None:
        if kind in ("int", "float"):
            return ""
        if kind == "datetime":
            return ""  # bounds are Unix seconds; the store turns them into RFC 3339 times
        return "range fits int, float and datetime fields only"
    if kind == "keyword":
        return "" if isinstance(value, str) else "equals needs a string"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return "" if ok else "equals needs an integer"
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return "" if ok else "equals needs a number"
    if kind == "bool":
        return "" if isinstance(value, bool) else "equals needs a boolean"
    ok = isinstance(value, str) and _is_datetime(value)
    return "" if ok else "equals needs an ISO-8601 date-time string"
