"""Every table of the collector's database, as SQLAlchemy Core.

Core rather than the ORM: the hot path (ingest) writes thousands of rows per
transaction and must not build an object per row. Times are Unix
milliseconds UTC in BIGINT columns named `*_ms`, the same on SQLite and
PostgreSQL.

Raw points are stored one row per received batch (`point_blocks`): four
packed arrays (series ids, points per series, timestamps, values). One insert
per batch, whatever its shape, is what lets a single SQLite file take a few
hundred thousand points a second; readers unpack a block with
`array.frombytes`, which is C speed. Hourly rollups are derived from the
blocks in the background (see `rollup.py`) and kept far longer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes only INTEGER PRIMARY KEY an auto-incrementing rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")

agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("customer", String(200), nullable=False),
    Column("site", String(200), nullable=False),
    Column("hostname", String(255), nullable=False, server_default=""),
    Column("agent_version", String(40), nullable=False, server_default=""),
    Column("protocol", String(40), nullable=False, server_default=""),
    Column("capabilities", Text, nullable=False, server_default=""),  # comma separated
    Column("peer", String(255), nullable=False, server_default=""),
    Column("connected", Boolean, nullable=False, server_default="0"),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    # Highest batch sequence number stored: committed with the batch's points.
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("points_stored", BigInteger, nullable=False, server_default="0"),
    # The agent's own account, from its latest heartbeat.
    Column("buffered_batches", BigInteger, nullable=False, server_default="0"),
    Column("dropped_points", BigInteger, nullable=False, server_default="0"),
    Column("buffered_points", BigInteger, nullable=False, server_default="0"),
    Column("buffered_bytes", BigInteger, nullable=False, server_default="0"),
    Column("oldest_unacked_ts_ms", BigInteger, nullable=False, server_default="0"),
    Column("dropped_from_ms", BigInteger, nullable=False, server_default="0"),
    Column("dropped_to_ms", BigInteger, nullable=False, server_default="0"),
    Column("heartbeat_ms", BigInteger, nullable=False, server_default="0"),
)

devices = Table(
    "devices",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("device_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("kind", String(20), nullable=False, server_default=""),
    Column("address", String(255), nullable=False, server_default=""),
    Column("platform", String(40), nullable=False, server_default=""),
    Column("pollers", Text, nullable=False, server_default=""),
    Column("labels", Text, nullable=False, server_default="{}"),  # JSON object
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
)

series = Table(
    "series",
    metadata,
    Column("series_id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("metric", String(200), nullable=False),
    Column("labels", Text, nullable=False),  # canonical JSON: sorted [[k, v], …]
    UniqueConstraint("agent_id", "device_id", "metric", "labels"),
)

point_blocks = Table(
    "point_blocks",
    metadata,
    Column("block_id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("min_ts_ms", BigInteger, nullable=False),
    Column("max_ts_ms", BigInteger, nullable=False),
    Column("n_points", Integer, nullable=False),
    Column("series_ids", LargeBinary, nullable=False),  # int64 per series, little-endian
    Column("counts", LargeBinary, nullable=False),      # int32 points per series
    Column("timestamps", LargeBinary, nullable=False),  # int64 ms per point
    Column("point_values", LargeBinary, nullable=False),  # float64 per point
    Index(None, "agent_id", "max_ts_ms"),
    Index(None, "max_ts_ms"),
    Index(None, "agent_id", "seq"),  # what is stored above an agent's watermark, read at each Hello
)

rollups_hourly = Table(
    "rollups_hourly",
    metadata,
    Column("series_id", BigInteger, primary_key=True),
    Column("hour_ms", BigInteger, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("sum", Float, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("last", Float, nullable=False),
    Column("last_ts_ms", BigInteger, nullable=False),
)

# Things that happened rather than were measured (SNMP traps…), stored in
# the same transaction as the batch that carried them, so they are
# exactly-once like points. Kept as long as hourly rollups: reports cite them.
events = Table(
    "events",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),          # the batch that carried it
    Column("device_id", String(64), nullable=False),    # "" when the sender is not a configured device
    Column("at_ms", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("source", String(40), nullable=False),
    Column("name", String(64), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("attributes", Text, nullable=False, server_default="{}"),  # JSON object
    Index(None, "at_ms"),
    Index(None, "agent_id", "device_id", "at_ms"),
)

# Named positions of background jobs (e.g. the rollup job's last block id),
# updated in the same transaction as the job's output.
cursors = Table(
    "cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# What a metric sink (collector/sinks/) gave up on, with why: a line the
# server rejected as malformed or conflicting (status 400/413/422, one row
# per line, `points` = 1), or raw points that raw retention deleted before the
# sink sent them (status 0, `line` empty, `points` = how many). Written in the
# same transaction as the sink's cursor; kept as long as hourly rollups.
sink_dead_letters = Table(
    "sink_dead_letters",
    metadata,
    Column("dead_letter_id", BigId, primary_key=True, autoincrement=True),
    Column("sink", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),   # the server's HTTP status; 0: never sent
    Column("reason", Text, nullable=False),      # the server's message
    Column("points", BigInteger, nullable=False, server_default="1"),
    Column("line", Text, nullable=False, server_default=""),  # the rejected line protocol, as sent
    Index(None, "sink", "at_ms"),
)

# An incident: one check firing on one instance of one device, from the first
# fire to its close. The dedup key is (agent, device, check, instance); a
# re-fire soon after recovery re-opens the same row and counts a flap. The
# texts are rendered at opening, in both languages, so a later change of the
# check library does not rewrite history.
incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("check_id", String(64), nullable=False),
    Column("instance", String(300), nullable=False, server_default=""),
    Column("customer", String(200), nullable=False, server_default=""),
    Column("site", String(200), nullable=False, server_default=""),
    Column("severity", String(10), nullable=False),
    # open → acknowledged → planned → resolved → closed
    Column("status", String(12), nullable=False),
    Column("happened_ms", BigInteger, nullable=False),   # the data's time of the first fire
    Column("seen_ms", BigInteger, nullable=False),       # when the collector noticed
    Column("last_fired_ms", BigInteger, nullable=False),
    Column("resolved_ms", BigInteger, nullable=False, server_default="0"),
    Column("closed_ms", BigInteger, nullable=False, server_default="0"),
    Column("acknowledged_ms", BigInteger, nullable=False, server_default="0"),
    Column("acknowledged_by", String(100), nullable=False, server_default=""),
    Column("plan_ms", BigInteger, nullable=False, server_default="0"),
    Column("plan_by", String(100), nullable=False, server_default=""),
    Column("plan_text", Text, nullable=False, server_default=""),
    Column("flaps", Integer, nullable=False, server_default="0"),
    Column("flapping", Boolean, nullable=False, server_default="0"),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("title_en", Text, nullable=False),
    Column("title_zh", Text, nullable=False),
    Column("analysis_en", Text, nullable=False),
    Column("analysis_zh", Text, nullable=False),
    Column("advice_en", Text, nullable=False),
    Column("advice_zh", Text, nullable=False),
    # Root-cause grouping (migration 0008): a device_unreachable incident folded under its site's
    # agent_unreachable incident points at it, and is neither notified nor timed on its own. 0: none.
    Column("parent_incident_id", BigInteger, nullable=False, server_default="0"),
    Index(None, "agent_id", "device_id", "check_id", "instance"),
    Index(None, "status"),
    Index(None, "customer", "happened_ms"),
)

# Every step of an incident, with who and when: the record the SLA clocks and reports are computed from.
incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column("entry_id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigInteger, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    # opened | fired_again | reopened | flapping | settled | resolved | acknowledged | plan | closed | note
    Column("kind", String(20), nullable=False),
    Column("who", String(100), nullable=False, server_default=""),
    Column("text", Text, nullable=False, server_default=""),
    Index(None, "incident_id", "at_ms"),
)


# ---------------------------------------------------------------- playbook runs (migration 0007)

# A remote diagnosis: who asked for which playbook (id and content hash) on
# which device, with what, and how it ended. The service record and the audit
# log: rows are inserted, a run's end is written once, nothing else changes.
playbook_runs = Table(
    "playbook_runs",
    metadata,
    Column("run_id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("customer", String(200), nullable=False, server_default=""),
    Column("site", String(200), nullable=False, server_default=""),
    Column("playbook_id", String(64), nullable=False),
    Column("playbook_hash", String(64), nullable=False),
    Column("mode", String(12), nullable=False),
    Column("params", Text, nullable=False, server_default="{}"),       # JSON object
    Column("requested_by", String(100), nullable=False),
    Column("requested_ms", BigInteger, nullable=False),
    Column("approval", Text, nullable=False, server_default=""),       # JSON: who at the customer approved, when
    Column("incident_id", BigInteger, nullable=True),                  # set when an incident started it
    # queued | sent | running | ok | failed | refused | cancelled | timeout | lost
    Column("status", String(12), nullable=False),
    Column("sent_ms", BigInteger, nullable=False, server_default="0"),
    Column("finished_ms", BigInteger, nullable=False, server_default="0"),
    Column("duration_ms", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=False, server_default=""),
    Column("findings", Text, nullable=False, server_default="[]"),     # JSON list
    Column("cancel_requested_ms", BigInteger, nullable=False, server_default="0"),
    Column("cancel_requested_by", String(100), nullable=False, server_default=""),
    Index(None, "status"),
    Index(None, "agent_id", "device_id", "requested_ms"),
    Index(None, "incident_id"),
)

# What the device answered, in the order the agent sent it (already redacted there).
playbook_run_output = Table(
    "playbook_run_output",
    metadata,
    Column("entry_id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),   # step_started | lines | step_finished
    Column("step", String(100), nullable=False, server_default=""),
    Column("text", Text, nullable=False, server_default=""),   # the command, or the lines joined by "\n"
    Column("data", Text, nullable=False, server_default=""),   # JSON: exit status, parsed rows, …
    UniqueConstraint("run_id", "seq"),
)



# ---------------------------------------------------------------- notifications, mail, SLA (migration 0008)

# The mail outbox (collector/mail/): one row per message, enqueued under a
# caller's key that is never accepted twice, so a message is never sent twice
# even across restarts. The parts are stored, not the MIME text: the sender
# comes from the SMTP config at delivery time. `lease_until_ms` is the claim
# of the deliverer sending it now (replicas share the table).
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("message_id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("message_header_id", String(255), nullable=False),   # the Message-ID header, the same on every attempt
    Column("lease_until_ms", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("key"),
)

mail_attachments = Table(
    "mail_attachments",
    metadata,
    Column("attachment_id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index(None, "message_id"),
)

# The delivery log: one row per (message, recipient).
# queued → sent | refused (5xx at RCPT) | retrying (4xx, connection) → … | failed (gave up, or 5xx at DATA)
mail_deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("message_id", BigInteger, primary_key=True),
    Column("recipient", String(320), primary_key=True),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_ms", BigInteger, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("sent_ms", BigInteger, nullable=False, server_default="0"),
    Index(None, "status", "next_attempt_ms"),
)

# Webhook posts (collector/notify/webhook.py), each once by key, with their delivery state.
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("hook_id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),            # the JSON posted
    Column("created_ms", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),    # queued | retrying | sent | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_ms", BigInteger, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("sent_ms", BigInteger, nullable=False, server_default="0"),
    Column("lease_until_ms", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("key"),
    Index(None, "status", "next_attempt_ms"),
)

# What should be told about an incident, decided where it happened (the keeper's
# transaction, the SLA sweep) and routed to people by the notification service.
# key: incident:{id}:{kind}:{n}, once ever. state: pending → queued | suppressed | skipped.
incident_notices = Table(
    "incident_notices",
    metadata,
    Column("notice_id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("incident_id", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),      # opened | reopened | flapping | resolved | response_at_risk | plan_breached …
    Column("level", Integer, nullable=False, server_default="0"),   # escalation level (1 = first), 0 for incident events
    Column("at_ms", BigInteger, nullable=False),     # when what it tells of happened
    Column("created_ms", BigInteger, nullable=False),
    Column("state", String(12), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),   # why suppressed/skipped; whom it went to
    UniqueConstraint("key"),
    Index(None, "state"),
    Index(None, "incident_id"),
)

# Maintenance windows: no incident opens, nothing is notified, for what they cover.
# Empty site/agent/device: the whole customer (or site). Times are UTC ms, [starts, ends).
maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("window_id", BigId, primary_key=True, autoincrement=True),
    Column("customer", String(200), nullable=False),
    Column("site", String(200), nullable=False, server_default=""),
    Column("agent_id", String(64), nullable=False, server_default=""),
    Column("device_id", String(64), nullable=False, server_default=""),
    Column("starts_ms", BigInteger, nullable=False),
    Column("ends_ms", BigInteger, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_by", String(100), nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    Column("released_ms", BigInteger, nullable=False, server_default="0"),   # when what still fired at its end was opened
    Index(None, "customer", "ends_ms"),
)

# Every fire and recovery a maintenance window swallowed: the record that it
# was suppressed, and what is still firing when the window ends.
maintenance_suppressed = Table(
    "maintenance_suppressed",
    metadata,
    Column("entry_id", BigId, primary_key=True, autoincrement=True),
    Column("window_id", BigInteger, nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("check_id", String(64), nullable=False),
    Column("instance", String(300), nullable=False, server_default=""),
    Column("kind", String(10), nullable=False),      # fire | resolve
    Column("at_ms", BigInteger, nullable=False),
    Column("value", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("thresholds", Text, nullable=False, server_default="{}"),   # JSON: the check's settings when it fired
    Index(None, "window_id"),
    Index(None, "agent_id", "device_id", "check_id", "instance"),
)



# ---------------------------------------------------------------- inspections and reports (migration 0009)

# One inspection (巡检) of one customer over one period: what ran, for whom,
# and its result (`result`: the inspection model as gzip'd JSON, so a report
# can be re-rendered and the next one can say what changed). `run_key` is
# unique: a scheduled run is "schedule:<customer>/<schedule>:<due_ms>", so a
# due time is claimed once, however often the collector restarts; a claim
# whose owner died (`lease_ms` passed, or the same collector restarted)
# is taken over and finished, never run a second time beside it.
inspections = Table(
    "inspections",
    metadata,
    Column("inspection_id", BigId, primary_key=True, autoincrement=True),
    Column("run_key", String(300), nullable=False),
    Column("customer", String(200), nullable=False),
    Column("trigger", String(10), nullable=False),        # schedule | manual
    Column("due_ms", BigInteger, nullable=False, server_default="0"),  # the schedule's due time; 0 for manual
    Column("period_label", String(40), nullable=False),
    Column("period_start_ms", BigInteger, nullable=False),
    Column("period_end_ms", BigInteger, nullable=False),  # exclusive
    Column("timezone", String(64), nullable=False),
    Column("languages", String(20), nullable=False),      # comma separated: zh,en
    Column("send", Boolean, nullable=False, server_default="0"),
    Column("status", String(10), nullable=False),         # running | done | failed
    Column("claimed_by", String(100), nullable=False, server_default=""),
    Column("lease_ms", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("started_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=False, server_default="0"),
    Column("error", Text, nullable=False, server_default=""),
    Column("number", String(60), nullable=False, server_default=""),    # the report number printed on the cover
    Column("score", Float, nullable=True),
    Column("devices", Integer, nullable=False, server_default="0"),
    Column("findings", Integer, nullable=False, server_default="0"),
    Column("result", LargeBinary, nullable=True),
    UniqueConstraint("run_key"),
    Index(None, "customer", "period_start_ms"),
    Index(None, "status"),
)

# A rendered report of an inspection, one per language: the HTML (gzip'd) and
# the PDF, kept as sent so the history shows what the customer received.
reports = Table(
    "reports",
    metadata,
    Column("report_id", BigId, primary_key=True, autoincrement=True),
    Column("inspection_id", BigInteger, nullable=False),
    Column("customer", String(200), nullable=False),
    Column("number", String(60), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("html_gz", LargeBinary, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("html_bytes", BigInteger, nullable=False),
    Column("pdf_bytes", BigInteger, nullable=False),
    Column("pages", Integer, nullable=False, server_default="0"),
    UniqueConstraint("inspection_id", "lang"),
    Index(None, "customer", "created_ms"),
)
