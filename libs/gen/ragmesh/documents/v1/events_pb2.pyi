from ragmesh.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentEvent(_message.Message):
    __slots__ = ("operation", "tenant_id", "document_id", "version", "title", "text", "metadata", "event_id", "content", "content_type")
    class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OPERATION_UNSPECIFIED: _ClassVar[DocumentEvent.Operation]
        OPERATION_UPSERT: _ClassVar[DocumentEvent.Operation]
        OPERATION_DELETE: _ClassVar[DocumentEvent.Operation]
    OPERATION_UNSPECIFIED: DocumentEvent.Operation
    OPERATION_UPSERT: DocumentEvent.Operation
    OPERATION_DELETE: DocumentEvent.Operation
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _types_pb2.MetadataValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.MetadataValue, _Mapping]] = ...) -> None: ...
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    operation: DocumentEvent.Operation
    tenant_id: str
    document_id: str
    version: int
    title: str
    text: str
    metadata: _containers.MessageMap[str, _types_pb2.MetadataValue]
    event_id: str
    content: bytes
    content_type: str
    def __init__(self, operation: _Optional[_Union[DocumentEvent.Operation, str]] = ..., tenant_id: _Optional[str] = ..., document_id: _Optional[str] = ..., version: _Optional[int] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., metadata: _Optional[_Mapping[str, _types_pb2.MetadataValue]] = ..., event_id: _Optional[str] = ..., content: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...
