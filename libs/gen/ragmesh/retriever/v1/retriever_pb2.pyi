from ragmesh.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchRequest(_message.Message):
    __slots__ = ("tenant_id", "vector", "top_k", "filters", "score_threshold", "max_chunks_per_document", "query_text", "mode")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    SCORE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNKS_PER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_TEXT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    vector: _containers.RepeatedScalarFieldContainer[float]
    top_k: int
    filters: _containers.RepeatedCompositeFieldContainer[_types_pb2.MetadataFilter]
    score_threshold: float
    max_chunks_per_document: int
    query_text: str
    mode: _types_pb2.RetrievalMode
    def __init__(self, tenant_id: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Iterable[_Union[_types_pb2.MetadataFilter, _Mapping]]] = ..., score_threshold: _Optional[float] = ..., max_chunks_per_document: _Optional[int] = ..., query_text: _Optional[str] = ..., mode: _Optional[_Union[_types_pb2.RetrievalMode, str]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("chunks", "trace_id")
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[_types_pb2.ScoredChunk]
    trace_id: str
    def __init__(self, chunks: _Optional[_Iterable[_Union[_types_pb2.ScoredChunk, _Mapping]]] = ..., trace_id: _Optional[str] = ...) -> None: ...

class ChunkRecord(_message.Message):
    __slots__ = ("chunk", "vector")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.Chunk
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, chunk: _Optional[_Union[_types_pb2.Chunk, _Mapping]] = ..., vector: _Optional[_Iterable[float]] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("tenant_id", "records")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    records: _containers.RepeatedCompositeFieldContainer[ChunkRecord]
    def __init__(self, tenant_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[ChunkRecord, _Mapping]]] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ("upserted", "trace_id")
    UPSERTED_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    upserted: int
    trace_id: str
    def __init__(self, upserted: _Optional[int] = ..., trace_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("tenant_id", "document_id", "below_version")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BELOW_VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    document_id: str
    below_version: int
    def __init__(self, tenant_id: _Optional[str] = ..., document_id: _Optional[str] = ..., below_version: _Optional[int] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ("trace_id",)
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    def __init__(self, trace_id: _Optional[str] = ...) -> None: ...

class GetDocumentStateRequest(_message.Message):
    __slots__ = ("tenant_id", "document_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    document_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class GetDocumentStateResponse(_message.Message):
    __slots__ = ("status", "trace_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    status: _types_pb2.DocumentStatus
    trace_id: str
    def __init__(self, status: _Optional[_Union[_types_pb2.DocumentStatus, _Mapping]] = ..., trace_id: _Optional[str] = ...) -> None: ...

class RecordDocumentStateRequest(_message.Message):
    __slots__ = ("tenant_id", "status")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    status: _types_pb2.DocumentStatus
    def __init__(self, tenant_id: _Optional[str] = ..., status: _Optional[_Union[_types_pb2.DocumentStatus, _Mapping]] = ...) -> None: ...

class RecordDocumentStateResponse(_message.Message):
    __slots__ = ("status", "trace_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    status: _types_pb2.DocumentStatus
    trace_id: str
    def __init__(self, status: _Optional[_Union[_types_pb2.DocumentStatus, _Mapping]] = ..., trace_id: _Optional[str] = ...) -> None: ...

class CountChunksRequest(_message.Message):
    __slots__ = ("tenant_id", "document_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    document_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class CountChunksResponse(_message.Message):
    __slots__ = ("count", "trace_id")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    count: int
    trace_id: str
    def __init__(self, count: _Optional[int] = ..., trace_id: _Optional[str] = ...) -> None: ...
