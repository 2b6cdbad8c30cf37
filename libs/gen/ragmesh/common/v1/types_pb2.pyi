from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GroundingOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUNDING_OUTCOME_UNSPECIFIED: _ClassVar[GroundingOutcome]
    GROUNDING_OUTCOME_NOT_CHECKED: _ClassVar[GroundingOutcome]
    GROUNDING_OUTCOME_GROUNDED: _ClassVar[GroundingOutcome]
    GROUNDING_OUTCOME_SENTENCES_DROPPED: _ClassVar[GroundingOutcome]
    GROUNDING_OUTCOME_EXTRACTIVE_FALLBACK: _ClassVar[GroundingOutcome]

class DocumentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_STATE_UNSPECIFIED: _ClassVar[DocumentState]
    DOCUMENT_STATE_ACCEPTED: _ClassVar[DocumentState]
    DOCUMENT_STATE_INDEXED: _ClassVar[DocumentState]
    DOCUMENT_STATE_FAILED: _ClassVar[DocumentState]
    DOCUMENT_STATE_DELETED: _ClassVar[DocumentState]

class CacheStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_STATUS_UNSPECIFIED: _ClassVar[CacheStatus]
    CACHE_STATUS_MISS: _ClassVar[CacheStatus]
    CACHE_STATUS_EXACT_HIT: _ClassVar[CacheStatus]
    CACHE_STATUS_SEMANTIC_HIT: _ClassVar[CacheStatus]
    CACHE_STATUS_BYPASSED: _ClassVar[CacheStatus]

class RetrievalMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRIEVAL_MODE_UNSPECIFIED: _ClassVar[RetrievalMode]
    RETRIEVAL_MODE_DENSE: _ClassVar[RetrievalMode]
    RETRIEVAL_MODE_HYBRID: _ClassVar[RetrievalMode]
GROUNDING_OUTCOME_UNSPECIFIED: GroundingOutcome
GROUNDING_OUTCOME_NOT_CHECKED: GroundingOutcome
GROUNDING_OUTCOME_GROUNDED: GroundingOutcome
GROUNDING_OUTCOME_SENTENCES_DROPPED: GroundingOutcome
GROUNDING_OUTCOME_EXTRACTIVE_FALLBACK: GroundingOutcome
DOCUMENT_STATE_UNSPECIFIED: DocumentState
DOCUMENT_STATE_ACCEPTED: DocumentState
DOCUMENT_STATE_INDEXED: DocumentState
DOCUMENT_STATE_FAILED: DocumentState
DOCUMENT_STATE_DELETED: DocumentState
CACHE_STATUS_UNSPECIFIED: CacheStatus
CACHE_STATUS_MISS: CacheStatus
CACHE_STATUS_EXACT_HIT: CacheStatus
CACHE_STATUS_SEMANTIC_HIT: CacheStatus
CACHE_STATUS_BYPASSED: CacheStatus
RETRIEVAL_MODE_UNSPECIFIED: RetrievalMode
RETRIEVAL_MODE_DENSE: RetrievalMode
RETRIEVAL_MODE_HYBRID: RetrievalMode

class MetadataValue(_message.Message):
    __slots__ = ("string_value", "int_value", "double_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    int_value: int
    double_value: float
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., bool_value: bool = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class NumericRange(_message.Message):
    __slots__ = ("gt", "gte", "lt", "lte")
    GT_FIELD_NUMBER: _ClassVar[int]
    GTE_FIELD_NUMBER: _ClassVar[int]
    LT_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    gt: float
    gte: float
    lt: float
    lte: float
    def __init__(self, gt: _Optional[float] = ..., gte: _Optional[float] = ..., lt: _Optional[float] = ..., lte: _Optional[float] = ...) -> None: ...

class MetadataFilter(_message.Message):
    __slots__ = ("field", "equals", "any_of", "range")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    field: str
    equals: MetadataValue
    any_of: StringList
    range: NumericRange
    def __init__(self, field: _Optional[str] = ..., equals: _Optional[_Union[MetadataValue, _Mapping]] = ..., any_of: _Optional[_Union[StringList, _Mapping]] = ..., range: _Optional[_Union[NumericRange, _Mapping]] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("chunk_id", "document_id", "chunk_index", "version", "title", "text", "metadata", "heading", "page")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MetadataValue, _Mapping]] = ...) -> None: ...
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    document_id: str
    chunk_index: int
    version: int
    title: str
    text: str
    metadata: _containers.MessageMap[str, MetadataValue]
    heading: str
    page: int
    def __init__(self, chunk_id: _Optional[str] = ..., document_id: _Optional[str] = ..., chunk_index: _Optional[int] = ..., version: _Optional[int] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., metadata: _Optional[_Mapping[str, MetadataValue]] = ..., heading: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class ScoredChunk(_message.Message):
    __slots__ = ("chunk", "score")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    chunk: Chunk
    score: float
    def __init__(self, chunk: _Optional[_Union[Chunk, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class Citation(_message.Message):
    __slots__ = ("document_id", "chunk_id", "score", "title", "quote", "label", "heading", "page")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    chunk_id: str
    score: float
    title: str
    quote: str
    label: int
    heading: str
    page: int
    def __init__(self, document_id: _Optional[str] = ..., chunk_id: _Optional[str] = ..., score: _Optional[float] = ..., title: _Optional[str] = ..., quote: _Optional[str] = ..., label: _Optional[int] = ..., heading: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "total_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class Grounding(_message.Message):
    __slots__ = ("outcome", "sentences_kept", "sentences_dropped", "answer_model")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_KEPT_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    ANSWER_MODEL_FIELD_NUMBER: _ClassVar[int]
    outcome: GroundingOutcome
    sentences_kept: int
    sentences_dropped: int
    answer_model: str
    def __init__(self, outcome: _Optional[_Union[GroundingOutcome, str]] = ..., sentences_kept: _Optional[int] = ..., sentences_dropped: _Optional[int] = ..., answer_model: _Optional[str] = ...) -> None: ...

class DocumentStatus(_message.Message):
    __slots__ = ("document_id", "state", "version", "chunk_count", "reason")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    state: DocumentState
    version: int
    chunk_count: int
    reason: str
    def __init__(self, document_id: _Optional[str] = ..., state: _Optional[_Union[DocumentState, str]] = ..., version: _Optional[int] = ..., chunk_count: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class QuotaRemaining(_message.Message):
    __slots__ = ("tokens_this_minute", "tokens_today")
    TOKENS_THIS_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_TODAY_FIELD_NUMBER: _ClassVar[int]
    tokens_this_minute: int
    tokens_today: int
    def __init__(self, tokens_this_minute: _Optional[int] = ..., tokens_today: _Optional[int] = ...) -> None: ...
