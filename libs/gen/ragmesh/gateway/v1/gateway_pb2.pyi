from ragmesh.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AskRequest(_message.Message):
    __slots__ = ("question", "top_k", "filters", "max_context_tokens", "min_score", "bypass_cache")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    BYPASS_CACHE_FIELD_NUMBER: _ClassVar[int]
    question: str
    top_k: int
    filters: _containers.RepeatedCompositeFieldContainer[_types_pb2.MetadataFilter]
    max_context_tokens: int
    min_score: float
    bypass_cache: bool
    def __init__(self, question: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Iterable[_Union[_types_pb2.MetadataFilter, _Mapping]]] = ..., max_context_tokens: _Optional[int] = ..., min_score: _Optional[float] = ..., bypass_cache: bool = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("answer", "citations", "usage", "trace_id", "cache", "quota", "grounding")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    GROUNDING_FIELD_NUMBER: _ClassVar[int]
    answer: str
    citations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Citation]
    usage: _types_pb2.TokenUsage
    trace_id: str
    cache: _types_pb2.CacheStatus
    quota: _types_pb2.QuotaRemaining
    grounding: _types_pb2.Grounding
    def __init__(self, answer: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_types_pb2.Citation, _Mapping]]] = ..., usage: _Optional[_Union[_types_pb2.TokenUsage, _Mapping]] = ..., trace_id: _Optional[str] = ..., cache: _Optional[_Union[_types_pb2.CacheStatus, str]] = ..., quota: _Optional[_Union[_types_pb2.QuotaRemaining, _Mapping]] = ..., grounding: _Optional[_Union[_types_pb2.Grounding, _Mapping]] = ...) -> None: ...

class AskStreamRequest(_message.Message):
    __slots__ = ("question", "top_k", "filters", "max_context_tokens", "min_score", "bypass_cache")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    BYPASS_CACHE_FIELD_NUMBER: _ClassVar[int]
    question: str
    top_k: int
    filters: _containers.RepeatedCompositeFieldContainer[_types_pb2.MetadataFilter]
    max_context_tokens: int
    min_score: float
    bypass_cache: bool
    def __init__(self, question: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Iterable[_Union[_types_pb2.MetadataFilter, _Mapping]]] = ..., max_context_tokens: _Optional[int] = ..., min_score: _Optional[float] = ..., bypass_cache: bool = ...) -> None: ...

class AskStreamResponse(_message.Message):
    __slots__ = ("piece", "complete")
    PIECE_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    piece: AnswerPiece
    complete: AnswerComplete
    def __init__(self, piece: _Optional[_Union[AnswerPiece, _Mapping]] = ..., complete: _Optional[_Union[AnswerComplete, _Mapping]] = ...) -> None: ...

class AnswerPiece(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class AnswerComplete(_message.Message):
    __slots__ = ("answer", "citations", "usage", "trace_id", "cache", "quota", "grounding")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    GROUNDING_FIELD_NUMBER: _ClassVar[int]
    answer: str
    citations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Citation]
    usage: _types_pb2.TokenUsage
    trace_id: str
    cache: _types_pb2.CacheStatus
    quota: _types_pb2.QuotaRemaining
    grounding: _types_pb2.Grounding
    def __init__(self, answer: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_types_pb2.Citation, _Mapping]]] = ..., usage: _Optional[_Union[_types_pb2.TokenUsage, _Mapping]] = ..., trace_id: _Optional[str] = ..., cache: _Optional[_Union[_types_pb2.CacheStatus, str]] = ..., quota: _Optional[_Union[_types_pb2.QuotaRemaining, _Mapping]] = ..., grounding: _Optional[_Union[_types_pb2.Grounding, _Mapping]] = ...) -> None: ...

class SubmitDocumentRequest(_message.Message):
    __slots__ = ("document_id", "text", "title", "metadata", "version", "content", "content_type")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _types_pb2.MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.MetadataValue, _Mapping]] = ...) -> None: ...
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    text: str
    title: str
    metadata: _containers.MessageMap[str, _types_pb2.MetadataValue]
    version: int
    content: bytes
    content_type: str
    def __init__(self, document_id: _Optional[str] = ..., text: _Optional[str] = ..., title: _Optional[str] = ..., metadata: _Optional[_Mapping[str, _types_pb2.MetadataValue]] = ..., version: _Optional[int] = ..., content: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class SubmitDocumentResponse(_message.Message):
    __slots__ = ("document_id", "version", "trace_id")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    version: int
    trace_id: str
    def __init__(self, document_id: _Optional[str] = ..., version: _Optional[int] = ..., trace_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ("document_id", "version", "trace_id")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    version: int
    trace_id: str
    def __init__(self, document_id: _Optional[str] = ..., version: _Optional[int] = ..., trace_id: _Optional[str] = ...) -> None: ...

class GetDocumentStatusRequest(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "top_k", "filters", "min_score", "mode", "max_chunks_per_document")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNKS_PER_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    filters: _containers.RepeatedCompositeFieldContainer[_types_pb2.MetadataFilter]
    min_score: float
    mode: _types_pb2.RetrievalMode
    max_chunks_per_document: int
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., filters: _Optional[_Iterable[_Union[_types_pb2.MetadataFilter, _Mapping]]] = ..., min_score: _Optional[float] = ..., mode: _Optional[_Union[_types_pb2.RetrievalMode, str]] = ..., max_chunks_per_document: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "trace_id", "quota")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_types_pb2.ScoredChunk]
    trace_id: str
    quota: _types_pb2.QuotaRemaining
    def __init__(self, results: _Optional[_Iterable[_Union[_types_pb2.ScoredChunk, _Mapping]]] = ..., trace_id: _Optional[str] = ..., quota: _Optional[_Union[_types_pb2.QuotaRemaining, _Mapping]] = ...) -> None: ...

class GetDocumentStatusResponse(_message.Message):
    __slots__ = ("status", "trace_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    status: _types_pb2.DocumentStatus
    trace_id: str
    def __init__(self, status: _Optional[_Union[_types_pb2.DocumentStatus, _Mapping]] = ..., trace_id: _Optional[str] = ...) -> None: ...
