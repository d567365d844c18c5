import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProtocolStatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_STATUS_CODE_UNSPECIFIED: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_OK: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_MXACCESS_FAILURE: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_EVENT_SUBSCRIBER_ALREADY_ACTIVE: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_SESSION_NOT_FOUND: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_SESSION_LIMIT_REACHED: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_WORKER_STARTUP_TIMEOUT: _ClassVar[ProtocolStatusCode]
    PROTOCOL_STATUS_CODE_INVALID_REQUEST: _ClassVar[ProtocolStatusCode]

class SessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATE_UNSPECIFIED: _ClassVar[SessionState]
    SESSION_STATE_STARTING: _ClassVar[SessionState]
    SESSION_STATE_READY: _ClassVar[SessionState]
    SESSION_STATE_FAULTED: _ClassVar[SessionState]
    SESSION_STATE_CLOSING: _ClassVar[SessionState]
    SESSION_STATE_CLOSED: _ClassVar[SessionState]

class MxCommandKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MX_COMMAND_KIND_UNSPECIFIED: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_REGISTER: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_ADD_ITEM_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_ADVISE_ITEM_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_REMOVE_ITEM_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_UN_ADVISE_ITEM_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_SUBSCRIBE_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_UNSUBSCRIBE_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_READ_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_WRITE_BULK: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_DRAIN_EVENTS: _ClassVar[MxCommandKind]
    MX_COMMAND_KIND_SET_BUFFERED_UPDATE_INTERVAL: _ClassVar[MxCommandKind]

class MxStatusCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MX_STATUS_CATEGORY_UNSPECIFIED: _ClassVar[MxStatusCategory]
    MX_STATUS_CATEGORY_OK: _ClassVar[MxStatusCategory]
    MX_STATUS_CATEGORY_SECURITY_ERROR: _ClassVar[MxStatusCategory]
    MX_STATUS_CATEGORY_OPERATIONAL_ERROR: _ClassVar[MxStatusCategory]

class MxDataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MX_DATA_TYPE_UNSPECIFIED: _ClassVar[MxDataType]
    MX_DATA_TYPE_INT32: _ClassVar[MxDataType]
    MX_DATA_TYPE_DOUBLE: _ClassVar[MxDataType]
    MX_DATA_TYPE_BOOL: _ClassVar[MxDataType]
    MX_DATA_TYPE_STRING: _ClassVar[MxDataType]
    MX_DATA_TYPE_TIMESTAMP: _ClassVar[MxDataType]
    MX_DATA_TYPE_FLOAT: _ClassVar[MxDataType]
    MX_DATA_TYPE_INT64: _ClassVar[MxDataType]

class MxEventFamily(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MX_EVENT_FAMILY_UNSPECIFIED: _ClassVar[MxEventFamily]
    MX_EVENT_FAMILY_ON_DATA_CHANGE: _ClassVar[MxEventFamily]
    MX_EVENT_FAMILY_ON_WRITE_COMPLETE: _ClassVar[MxEventFamily]
    MX_EVENT_FAMILY_OPERATION_COMPLETE: _ClassVar[MxEventFamily]
PROTOCOL_STATUS_CODE_UNSPECIFIED: ProtocolStatusCode
PROTOCOL_STATUS_CODE_OK: ProtocolStatusCode
PROTOCOL_STATUS_CODE_MXACCESS_FAILURE: ProtocolStatusCode
PROTOCOL_STATUS_CODE_WORKER_UNAVAILABLE: ProtocolStatusCode
PROTOCOL_STATUS_CODE_EVENT_QUEUE_OVERFLOW: ProtocolStatusCode
PROTOCOL_STATUS_CODE_EVENT_SUBSCRIBER_ALREADY_ACTIVE: ProtocolStatusCode
PROTOCOL_STATUS_CODE_SESSION_NOT_FOUND: ProtocolStatusCode
PROTOCOL_STATUS_CODE_SESSION_LIMIT_REACHED: ProtocolStatusCode
PROTOCOL_STATUS_CODE_WORKER_STARTUP_TIMEOUT: ProtocolStatusCode
PROTOCOL_STATUS_CODE_INVALID_REQUEST: ProtocolStatusCode
SESSION_STATE_UNSPECIFIED: SessionState
SESSION_STATE_STARTING: SessionState
SESSION_STATE_READY: SessionState
SESSION_STATE_FAULTED: SessionState
SESSION_STATE_CLOSING: SessionState
SESSION_STATE_CLOSED: SessionState
MX_COMMAND_KIND_UNSPECIFIED: MxCommandKind
MX_COMMAND_KIND_REGISTER: MxCommandKind
MX_COMMAND_KIND_ADD_ITEM_BULK: MxCommandKind
MX_COMMAND_KIND_ADVISE_ITEM_BULK: MxCommandKind
MX_COMMAND_KIND_REMOVE_ITEM_BULK: MxCommandKind
MX_COMMAND_KIND_UN_ADVISE_ITEM_BULK: MxCommandKind
MX_COMMAND_KIND_SUBSCRIBE_BULK: MxCommandKind
MX_COMMAND_KIND_UNSUBSCRIBE_BULK: MxCommandKind
MX_COMMAND_KIND_READ_BULK: MxCommandKind
MX_COMMAND_KIND_WRITE_BULK: MxCommandKind
MX_COMMAND_KIND_DRAIN_EVENTS: MxCommandKind
MX_COMMAND_KIND_SET_BUFFERED_UPDATE_INTERVAL: MxCommandKind
MX_STATUS_CATEGORY_UNSPECIFIED: MxStatusCategory
MX_STATUS_CATEGORY_OK: MxStatusCategory
MX_STATUS_CATEGORY_SECURITY_ERROR: MxStatusCategory
MX_STATUS_CATEGORY_OPERATIONAL_ERROR: MxStatusCategory
MX_DATA_TYPE_UNSPECIFIED: MxDataType
MX_DATA_TYPE_INT32: MxDataType
MX_DATA_TYPE_DOUBLE: MxDataType
MX_DATA_TYPE_BOOL: MxDataType
MX_DATA_TYPE_STRING: MxDataType
MX_DATA_TYPE_TIMESTAMP: MxDataType
MX_DATA_TYPE_FLOAT: MxDataType
MX_DATA_TYPE_INT64: MxDataType
MX_EVENT_FAMILY_UNSPECIFIED: MxEventFamily
MX_EVENT_FAMILY_ON_DATA_CHANGE: MxEventFamily
MX_EVENT_FAMILY_ON_WRITE_COMPLETE: MxEventFamily
MX_EVENT_FAMILY_OPERATION_COMPLETE: MxEventFamily

class ProtocolStatus(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: ProtocolStatusCode
    message: str
    def __init__(self, code: _Optional[_Union[ProtocolStatusCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("client_session_name",)
    CLIENT_SESSION_NAME_FIELD_NUMBER: _ClassVar[int]
    client_session_name: str
    def __init__(self, client_session_name: _Optional[str] = ...) -> None: ...

class OpenSessionReply(_message.Message):
    __slots__ = ("session_id", "backend_name", "gateway_protocol_version", "worker_protocol_version", "protocol_status")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_NAME_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKER_PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_STATUS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    backend_name: str
    gateway_protocol_version: int
    worker_protocol_version: int
    protocol_status: ProtocolStatus
    def __init__(self, session_id: _Optional[str] = ..., backend_name: _Optional[str] = ..., gateway_protocol_version: _Optional[int] = ..., worker_protocol_version: _Optional[int] = ..., protocol_status: _Optional[_Union[ProtocolStatus, _Mapping]] = ...) -> None: ...

class CloseSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CloseSessionReply(_message.Message):
    __slots__ = ("session_id", "final_state", "protocol_status")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FINAL_STATE_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_STATUS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    final_state: SessionState
    protocol_status: ProtocolStatus
    def __init__(self, session_id: _Optional[str] = ..., final_state: _Optional[_Union[SessionState, str]] = ..., protocol_status: _Optional[_Union[ProtocolStatus, _Mapping]] = ...) -> None: ...

class RegisterCommand(_message.Message):
    __slots__ = ("client_name",)
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    client_name: str
    def __init__(self, client_name: _Optional[str] = ...) -> None: ...

class SubscribeBulkCommand(_message.Message):
    __slots__ = ("server_handle", "tag_addresses")
    SERVER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    TAG_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    server_handle: int
    tag_addresses: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, server_handle: _Optional[int] = ..., tag_addresses: _Optional[_Iterable[str]] = ...) -> None: ...

class UnsubscribeBulkCommand(_message.Message):
    __slots__ = ("server_handle", "item_handles")
    SERVER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    ITEM_HANDLES_FIELD_NUMBER: _ClassVar[int]
    server_handle: int
    item_handles: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, server_handle: _Optional[int] = ..., item_handles: _Optional[_Iterable[int]] = ...) -> None: ...

class DrainEventsCommand(_message.Message):
    __slots__ = ("max_events",)
    MAX_EVENTS_FIELD_NUMBER: _ClassVar[int]
    max_events: int
    def __init__(self, max_events: _Optional[int] = ...) -> None: ...

class MxCommand(_message.Message):
    __slots__ = ("kind", "register", "subscribe_bulk", "unsubscribe_bulk", "drain_events")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_BULK_FIELD_NUMBER: _ClassVar[int]
    UNSUBSCRIBE_BULK_FIELD_NUMBER: _ClassVar[int]
    DRAIN_EVENTS_FIELD_NUMBER: _ClassVar[int]
    kind: MxCommandKind
    register: RegisterCommand
    subscribe_bulk: SubscribeBulkCommand
    unsubscribe_bulk: UnsubscribeBulkCommand
    drain_events: DrainEventsCommand
    def __init__(self, kind: _Optional[_Union[MxCommandKind, str]] = ..., register: _Optional[_Union[RegisterCommand, _Mapping]] = ..., subscribe_bulk: _Optional[_Union[SubscribeBulkCommand, _Mapping]] = ..., unsubscribe_bulk: _Optional[_Union[UnsubscribeBulkCommand, _Mapping]] = ..., drain_events: _Optional[_Union[DrainEventsCommand, _Mapping]] = ...) -> None: ...

class MxCommandRequest(_message.Message):
    __slots__ = ("session_id", "client_correlation_id", "command")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    client_correlation_id: str
    command: MxCommand
    def __init__(self, session_id: _Optional[str] = ..., client_correlation_id: _Optional[str] = ..., command: _Optional[_Union[MxCommand, _Mapping]] = ...) -> None: ...

class MxStatusProxy(_message.Message):
    __slots__ = ("success", "category", "detected_by", "detail")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DETECTED_BY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    success: bool
    category: MxStatusCategory
    detected_by: int
    detail: str
    def __init__(self, success: _Optional[bool] = ..., category: _Optional[_Union[MxStatusCategory, str]] = ..., detected_by: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class MxValue(_message.Message):
    __slots__ = ("data_type", "is_null", "int32_value", "double_value", "bool_value", "string_value", "timestamp_value", "float_value", "int64_value")
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    IS_NULL_FIELD_NUMBER: _ClassVar[int]
    INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    data_type: MxDataType
    is_null: bool
    int32_value: int
    double_value: float
    bool_value: bool
    string_value: str
    timestamp_value: _timestamp_pb2.Timestamp
    float_value: float
    int64_value: int
    def __init__(self, data_type: _Optional[_Union[MxDataType, str]] = ..., is_null: _Optional[bool] = ..., int32_value: _Optional[int] = ..., double_value: _Optional[float] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., timestamp_value: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., float_value: _Optional[float] = ..., int64_value: _Optional[int] = ...) -> None: ...

class RegisterReply(_message.Message):
    __slots__ = ("server_handle",)
    SERVER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    server_handle: int
    def __init__(self, server_handle: _Optional[int] = ...) -> None: ...

class SubscribeResult(_message.Message):
    __slots__ = ("server_handle", "tag_address", "item_handle", "was_successful", "error_message")
    SERVER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    TAG_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ITEM_HANDLE_FIELD_NUMBER: _ClassVar[int]
    WAS_SUCCESSFUL_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    server_handle: int
    tag_address: str
    item_handle: int
    was_successful: bool
    error_message: str
    def __init__(self, server_handle: _Optional[int] = ..., tag_address: _Optional[str] = ..., item_handle: _Optional[int] = ..., was_successful: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...

class BulkSubscribeReply(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SubscribeResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SubscribeResult, _Mapping]]] = ...) -> None: ...

class FaultRecord(_message.Message):
    __slots__ = ("code", "message", "time")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    code: ProtocolStatusCode
    message: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[_Union[ProtocolStatusCode, str]] = ..., message: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DrainEventsReply(_message.Message):
    __slots__ = ("session_state", "faults", "events", "queued_event_count")
    SESSION_STATE_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    session_state: SessionState
    faults: _containers.RepeatedCompositeFieldContainer[FaultRecord]
    events: _containers.RepeatedCompositeFieldContainer[MxEvent]
    queued_event_count: int
    def __init__(self, session_state: _Optional[_Union[SessionState, str]] = ..., faults: _Optional[_Iterable[_Union[FaultRecord, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[MxEvent, _Mapping]]] = ..., queued_event_count: _Optional[int] = ...) -> None: ...

class MxCommandReply(_message.Message):
    __slots__ = ("session_id", "correlation_id", "kind", "protocol_status", "hresult", "return_value", "statuses", "diagnostic_message", "register", "bulk_subscribe", "drain_events")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_STATUS_FIELD_NUMBER: _ClassVar[int]
    HRESULT_FIELD_NUMBER: _ClassVar[int]
    RETURN_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTIC_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    BULK_SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    DRAIN_EVENTS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    correlation_id: str
    kind: MxCommandKind
    protocol_status: ProtocolStatus
    hresult: int
    return_value: MxValue
    statuses: _containers.RepeatedCompositeFieldContainer[MxStatusProxy]
    diagnostic_message: str
    register: RegisterReply
    bulk_subscribe: BulkSubscribeReply
    drain_events: DrainEventsReply
    def __init__(self, session_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., kind: _Optional[_Union[MxCommandKind, str]] = ..., protocol_status: _Optional[_Union[ProtocolStatus, _Mapping]] = ..., hresult: _Optional[int] = ..., return_value: _Optional[_Union[MxValue, _Mapping]] = ..., statuses: _Optional[_Iterable[_Union[MxStatusProxy, _Mapping]]] = ..., diagnostic_message: _Optional[str] = ..., register: _Optional[_Union[RegisterReply, _Mapping]] = ..., bulk_subscribe: _Optional[_Union[BulkSubscribeReply, _Mapping]] = ..., drain_events: _Optional[_Union[DrainEventsReply, _Mapping]] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("session_id", "after_worker_sequence")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_WORKER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    after_worker_sequence: int
    def __init__(self, session_id: _Optional[str] = ..., after_worker_sequence: _Optional[int] = ...) -> None: ...

class ReplayGap(_message.Message):
    __slots__ = ("requested_after_sequence", "oldest_available_sequence")
    REQUESTED_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OLDEST_AVAILABLE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    requested_after_sequence: int
    oldest_available_sequence: int
    def __init__(self, requested_after_sequence: _Optional[int] = ..., oldest_available_sequence: _Optional[int] = ...) -> None: ...

class OnDataChangeEvent(_message.Message):
    __slots__ = ("quality", "source_timestamp")
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    quality: int
    source_timestamp: _timestamp_pb2.Timestamp
    def __init__(self, quality: _Optional[int] = ..., source_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MxEvent(_message.Message):
    __slots__ = ("worker_sequence", "family", "server_handle", "item_handle", "value", "worker_timestamp", "session_id", "gateway_receive_timestamp", "hresult", "raw_status", "replay_gap", "on_data_change")
    WORKER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    SERVER_HANDLE_FIELD_NUMBER: _ClassVar[int]
    ITEM_HANDLE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WORKER_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_RECEIVE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    HRESULT_FIELD_NUMBER: _ClassVar[int]
    RAW_STATUS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_GAP_FIELD_NUMBER: _ClassVar[int]
    ON_DATA_CHANGE_FIELD_NUMBER: _ClassVar[int]
    worker_sequence: int
    family: MxEventFamily
    server_handle: int
    item_handle: int
    value: MxValue
    worker_timestamp: _timestamp_pb2.Timestamp
    session_id: str
    gateway_receive_timestamp: _timestamp_pb2.Timestamp
    hresult: int
    raw_status: str
    replay_gap: ReplayGap
    on_data_change: OnDataChangeEvent
    def __init__(self, worker_sequence: _Optional[int] = ..., family: _Optional[_Union[MxEventFamily, str]] = ..., server_handle: _Optional[int] = ..., item_handle: _Optional[int] = ..., value: _Optional[_Union[MxValue, _Mapping]] = ..., worker_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., session_id: _Optional[str] = ..., gateway_receive_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hresult: _Optional[int] = ..., raw_status: _Optional[str] = ..., replay_gap: _Optional[_Union[ReplayGap, _Mapping]] = ..., on_data_change: _Optional[_Union[OnDataChangeEvent, _Mapping]] = ...) -> None: ...
