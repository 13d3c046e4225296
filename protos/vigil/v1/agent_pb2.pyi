from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentMessage(_message.Message):
    __slots__ = ("hello", "batch", "heartbeat", "playbook_output", "command_result")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_RESULT_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    batch: MetricBatch
    heartbeat: Heartbeat
    playbook_output: PlaybookOutput
    command_result: CommandResult
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., batch: _Optional[_Union[MetricBatch, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., playbook_output: _Optional[_Union[PlaybookOutput, _Mapping]] = ..., command_result: _Optional[_Union[CommandResult, _Mapping]] = ...) -> None: ...

class CollectorMessage(_message.Message):
    __slots__ = ("welcome", "ack", "command")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    ack: Ack
    command: Command
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("agent_id", "customer", "site", "agent_version", "protocol", "capabilities", "devices", "hostname", "oldest_unacked_seq")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    OLDEST_UNACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    customer: str
    site: str
    agent_version: str
    protocol: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    hostname: str
    oldest_unacked_seq: int
    def __init__(self, agent_id: _Optional[str] = ..., customer: _Optional[str] = ..., site: _Optional[str] = ..., agent_version: _Optional[str] = ..., protocol: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., hostname: _Optional[str] = ..., oldest_unacked_seq: _Optional[int] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("id", "name", "kind", "address", "platform", "pollers", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    POLLERS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    address: str
    platform: str
    pollers: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., address: _Optional[str] = ..., platform: _Optional[str] = ..., pollers: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("collector_id", "protocol", "last_stored_seq", "heartbeat_interval_s", "max_message_bytes", "stored_above")
    COLLECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    LAST_STORED_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STORED_ABOVE_FIELD_NUMBER: _ClassVar[int]
    collector_id: str
    protocol: str
    last_stored_seq: int
    heartbeat_interval_s: int
    max_message_bytes: int
    stored_above: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collector_id: _Optional[str] = ..., protocol: _Optional[str] = ..., last_stored_seq: _Optional[int] = ..., heartbeat_interval_s: _Optional[int] = ..., max_message_bytes: _Optional[int] = ..., stored_above: _Optional[_Iterable[int]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("sent_at_ms", "buffered_batches", "buffered_points", "dropped_points", "dropped_from_ms", "dropped_to_ms", "oldest_unacked_ts_ms", "buffered_bytes", "oldest_unacked_seq")
    SENT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_BATCHES_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_POINTS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_POINTS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FROM_MS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_TO_MS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_UNACKED_TS_MS_FIELD_NUMBER: _ClassVar[int]
    BUFFERED_BYTES_FIELD_NUMBER: _ClassVar[int]
    OLDEST_UNACKED_SEQ_FIELD_NUMBER: _ClassVar[int]
    sent_at_ms: int
    buffered_batches: int
    buffered_points: int
    dropped_points: int
    dropped_from_ms: int
    dropped_to_ms: int
    oldest_unacked_ts_ms: int
    buffered_bytes: int
    oldest_unacked_seq: int
    def __init__(self, sent_at_ms: _Optional[int] = ..., buffered_batches: _Optional[int] = ..., buffered_points: _Optional[int] = ..., dropped_points: _Optional[int] = ..., dropped_from_ms: _Optional[int] = ..., dropped_to_ms: _Optional[int] = ..., oldest_unacked_ts_ms: _Optional[int] = ..., buffered_bytes: _Optional[int] = ..., oldest_unacked_seq: _Optional[int] = ...) -> None: ...

class MetricBatch(_message.Message):
    __slots__ = ("seq", "created_at_ms", "series_keys", "point_counts", "timestamps_ms", "values", "events")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SERIES_KEYS_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    created_at_ms: int
    series_keys: _containers.RepeatedScalarFieldContainer[str]
    point_counts: _containers.RepeatedScalarFieldContainer[int]
    timestamps_ms: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, seq: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., series_keys: _Optional[_Iterable[str]] = ..., point_counts: _Optional[_Iterable[int]] = ..., timestamps_ms: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("device", "at_ms", "source", "name", "severity", "message", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    device: str
    at_ms: int
    source: str
    name: str
    severity: str
    message: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, device: _Optional[str] = ..., at_ms: _Optional[int] = ..., source: _Optional[str] = ..., name: _Optional[str] = ..., severity: _Optional[str] = ..., message: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("seq", "slow_down", "stored")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SLOW_DOWN_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    slow_down: bool
    stored: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seq: _Optional[int] = ..., slow_down: _Optional[bool] = ..., stored: _Optional[_Iterable[int]] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("command_id", "run_playbook", "cancel_run")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_PLAYBOOK_FIELD_NUMBER: _ClassVar[int]
    CANCEL_RUN_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    run_playbook: RunPlaybook
    cancel_run: CancelRun
    def __init__(self, command_id: _Optional[str] = ..., run_playbook: _Optional[_Union[RunPlaybook, _Mapping]] = ..., cancel_run: _Optional[_Union[CancelRun, _Mapping]] = ...) -> None: ...

class RunPlaybook(_message.Message):
    __slots__ = ("run_id", "device_id", "playbook_id", "playbook_hash", "params", "requested_by", "approval")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    PLAYBOOK_HASH_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    device_id: str
    playbook_id: str
    playbook_hash: str
    params: _containers.ScalarMap[str, str]
    requested_by: str
    approval: Approval
    def __init__(self, run_id: _Optional[str] = ..., device_id: _Optional[str] = ..., playbook_id: _Optional[str] = ..., playbook_hash: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., requested_by: _Optional[str] = ..., approval: _Optional[_Union[Approval, _Mapping]] = ...) -> None: ...

class Approval(_message.Message):
    __slots__ = ("approval_id", "approved_by", "approved_at_ms", "run_id", "note")
    APPROVAL_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    approval_id: str
    approved_by: str
    approved_at_ms: int
    run_id: str
    note: str
    def __init__(self, approval_id: _Optional[str] = ..., approved_by: _Optional[str] = ..., approved_at_ms: _Optional[int] = ..., run_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CancelRun(_message.Message):
    __slots__ = ("run_id", "requested_by")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    requested_by: str
    def __init__(self, run_id: _Optional[str] = ..., requested_by: _Optional[str] = ...) -> None: ...

class CommandResult(_message.Message):
    __slots__ = ("command_id", "ok", "error")
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    command_id: str
    ok: bool
    error: str
    def __init__(self, command_id: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class PlaybookOutput(_message.Message):
    __slots__ = ("run_id", "seq", "step_started", "lines", "step_finished", "run_finished")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STEP_STARTED_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    STEP_FINISHED_FIELD_NUMBER: _ClassVar[int]
    RUN_FINISHED_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    seq: int
    step_started: StepStarted
    lines: OutputLines
    step_finished: StepFinished
    run_finished: RunFinished
    def __init__(self, run_id: _Optional[str] = ..., seq: _Optional[int] = ..., step_started: _Optional[_Union[StepStarted, _Mapping]] = ..., lines: _Optional[_Union[OutputLines, _Mapping]] = ..., step_finished: _Optional[_Union[StepFinished, _Mapping]] = ..., run_finished: _Optional[_Union[RunFinished, _Mapping]] = ...) -> None: ...

class StepStarted(_message.Message):
    __slots__ = ("step", "index", "command")
    STEP_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    step: str
    index: int
    command: str
    def __init__(self, step: _Optional[str] = ..., index: _Optional[int] = ..., command: _Optional[str] = ...) -> None: ...

class OutputLines(_message.Message):
    __slots__ = ("step", "lines")
    STEP_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    step: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, step: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ...) -> None: ...

class StepFinished(_message.Message):
    __slots__ = ("step", "exit_status", "timed_out", "truncated", "duration_ms", "rows_json", "error")
    STEP_FIELD_NUMBER: _ClassVar[int]
    EXIT_STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    step: str
    exit_status: int
    timed_out: bool
    truncated: bool
    duration_ms: int
    rows_json: str
    error: str
    def __init__(self, step: _Optional[str] = ..., exit_status: _Optional[int] = ..., timed_out: _Optional[bool] = ..., truncated: _Optional[bool] = ..., duration_ms: _Optional[int] = ..., rows_json: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class RunFinished(_message.Message):
    __slots__ = ("status", "error", "findings_json", "duration_ms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_JSON_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    status: str
    error: str
    findings_json: str
    duration_ms: int
    def __init__(self, status: _Optional[str] = ..., error: _Optional[str] = ..., findings_json: _Optional[str] = ..., duration_ms: _Optional[int] = ...) -> None: ...
