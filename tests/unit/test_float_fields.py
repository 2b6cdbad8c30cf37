"""Vectors merged from their packed encoding equal the ones protobuf builds element by element."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragmesh.embedder.v1 import embedder_pb2
from ragmesh.retriever.v1 import retriever_pb2
from ragmesh_kit.float_fields import merge_floats

floats = st.floats(allow_nan=False, width=32)


@given(st.lists(floats, max_size=400))
def test_merged_vector_equals_the_assigned_one(values: list[float]) -> None:
    merged = retriever_pb2.SearchRequest(tenant_id="t", top_k=5, query_text="q")
    merge_floats(merged, "vector", values)
    assigned = retriever_pb2.SearchRequest(tenant_id="t", vector=values, top_k=5, query_text="q")
    assert merged == assigned
    assert merged.SerializeToString() == assigned.SerializeToString()


def test_numpy_rows_nan_and_non_float32_values_are_kept_as_assignment_would() -> None:
    row = np.array([0.5, -1.25, 1e-3, 3.3], dtype=np.float64)
    vector = embedder_pb2.Vector()
    merge_floats(vector, "values", row)
    assert list(vector.values) == list(embedder_pb2.Vector(values=row.tolist()).values)
    with_nan = retriever_pb2.ChunkRecord()
    merge_floats(with_nan, "vector", [1.0, math.nan])
    # A NaN reaches the retriever, whose own check refuses it with INVALID_ARGUMENT.
    assert with_nan.vector[0] == 1.0 and math.isnan(with_nan.vector[1])


def test_only_repeated_float_fields_are_accepted() -> None:
    with pytest.raises(TypeError, match="not a repeated float field"):
        merge_floats(retriever_pb2.SearchRequest(), "top_k", [1.0])
