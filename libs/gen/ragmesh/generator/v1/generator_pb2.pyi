from ragmesh.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateRequest(_message.Message):
    __slots__ = ("question", "context", "max_context_tokens", "max_output_tokens")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    question: str
    context: _containers.RepeatedCompositeFieldContainer[_types_pb2.ScoredChunk]
    max_context_tokens: int
    max_output_tokens: int
    def __init__(self, question: _Optional[str] = ..., context: _Optional[_Iterable[_Union[_types_pb2.ScoredChunk, _Mapping]]] = ..., max_context_tokens: _Optional[int] = ..., max_output_tokens: _Optional[int] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("delta", "complete")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    delta: TextDelta
    complete: GenerationComplete
    def __init__(self, delta: _Optional[_Union[TextDelta, _Mapping]] = ..., complete: _Optional[_Union[GenerationComplete, _Mapping]] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class GenerationComplete(_message.Message):
    __slots__ = ("answer", "citations", "usage", "model", "trace_id", "grounding")
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    GROUNDING_FIELD_NUMBER: _ClassVar[int]
    answer: str
    citations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Citation]
    usage: _types_pb2.TokenUsage
    model: str
    trace_id: str
    grounding: _types_pb2.Grounding
    def __init__(self, answer: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_types_pb2.Citation, _Mapping]]] = ..., usage: _Optional[_Union[_types_pb2.TokenUsage, _Mapping]] = ..., model: _Optional[str] = ..., trace_id: _Optional[str] = ..., grounding: _Optional[_Union[_types_pb2.Grounding, _Mapping]] = ...) -> None: ...
