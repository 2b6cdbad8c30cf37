"""Repeated float fields (embedding vectors) filled from their packed wire encoding.

Protobuf converts a Python sequence into a repeated field one element at a time: 56 µs for a
384-float list, 80 µs for a numpy row, on every Embed reply, Search request and upserted chunk.
The packed encoding of the same field (tag, length, little-endian float32s: the protobuf wire
format, which every parser reads for a repeated scalar) is built by numpy and merged in ~2 µs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from numpy.typing import NDArray

_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def merge_floats(message: Message, field: str, values: Sequence[float] | NDArray[Any]) -> None:
    """Appends ``values`` to the repeated float ``field`` of ``message`` (rounded to float32, as
    assigning them would)."""
    descriptor = message.DESCRIPTOR.fields_by_name[field]
    if descriptor.type != FieldDescriptor.TYPE_FLOAT or descriptor.label != FieldDescriptor.LABEL_REPEATED:
        raise TypeError(f"{message.DESCRIPTOR.full_name}.{field} is not a repeated float field")
    raw = np.asarray(values, dtype="<f4").tobytes()
    if not raw:
        return
    message.MergeFromString(_varint(descriptor.number << 3 | _LENGTH_DELIMITED) + _varint(len(raw)) + raw)
