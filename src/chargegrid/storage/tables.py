"""Database tables (SQLAlchemy Core); the Alembic migrations mirror this module."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)

from chargegrid.storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

CHARGER_ID = 48  # OCPP 2.0.1 identity string[48]; 1.6 chargeBoxIdentity is shorter

locations = Table(
    "locations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("address", String(255)),
    Column("city", String(64)),
    Column("postal_code", String(16)),
    Column("country", String(3)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("created_at", UTCDateTime, nullable=False),
)

chargers = Table(
    "chargers",
    metadata,
    Column("id", String(CHARGER_ID), primary_key=True),
    Column("location_id", String(36), ForeignKey("locations.id", ondelete="SET NULL")),
    Column("password_hash", String(255)),
    Column("security_profile", Integer, nullable=False, server_default="1"),
    Column("registration_status", String(16), nullable=False, server_default="Accepted"),
    Column("ocpp_version", String(8)),
    Column("vendor", String(50)),
    Column("model", String(50)),
    Column("serial_number", String(50)),
    Column("charge_box_serial_number", String(50)),
    Column("firmware_version", String(50)),
    Column("iccid", String(20)),
    Column("imsi", String(20)),
    Column("meter_type", String(25)),
    Column("meter_serial_number", String(25)),
    Column("status", String(32)),
    Column("error_code", String(50)),
    Column("firmware_status", String(40)),
    Column("firmware_status_at", UTCDateTime),
    Column("diagnostics_status", String(40)),
    Column("diagnostics_status_at", UTCDateTime),
    Column("log_status", String(40)),
    Column("log_status_at", UTCDateTime),
    Column("last_boot_at", UTCDateTime),
    Column("last_boot_reason", String(32)),
    Column("last_heartbeat_at", UTCDateTime),
    Column("connected_at", UTCDateTime),
    Column("disconnected_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

connectors = Table(
    "connectors",
    metadata,
    Column("charger_id", String(CHARGER_ID), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("connector_id", Integer, primary_key=True),
    Column("status", String(32), nullable=False),
    Column("error_code", String(50)),
    Column("info", String(50)),
    Column("vendor_id", String(255)),
    Column("vendor_error_code", String(50)),
    Column("status_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("status", String(32), nullable=False),
    Column("error_code", String(50)),
    Column("info", String(50)),
    Column("vendor_id", String(255)),
    Column("vendor_error_code", String(50)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_status_changes_charger_occurred", "charger_id", "occurred_at"),
)

id_tokens = Table(
    "id_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("id_token", String(255), nullable=False, unique=True),
    Column("type", String(20)),
    Column("status", String(16), nullable=False),
    Column("expires_at", UTCDateTime),
    Column("group_id", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The status of an open transaction, as SQL: a literal, not a parameter (below).
_ACTIVE = "'active'"

transactions = Table(
    "transactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("transaction_id", String(128)),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("id_token", String(255)),
    Column("authorization_status", String(32)),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime),
    Column("stopped_at", UTCDateTime),
    Column("meter_start_wh", Float),
    Column("meter_stop_wh", Float),
    Column("energy_wh", Float),
    Column("stop_reason", String(32)),
    Column("stop_id_token", String(255)),
    Column("reservation_id", Integer),
    Column("id_token_type", String(20)),
    Column("charging_state", String(16)),
    Column("trigger_reason", String(32)),
    Column("offline", Boolean, nullable=False, server_default="0"),
    Column("number_of_phases", Integer),
    Column("cable_max_current", Integer),
    Column("remote_start_id", Integer),
    Column("time_spent_charging_s", Integer),
    Column("last_seq_no", Integer),
    Column("seq_gaps", Integer),
    Column("superseded_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The OCPI id of the tariff frozen onto it at its start (transaction_tariffs holds it).
    Column("tariff_id", String(36)),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    UniqueConstraint("charger_id", "transaction_id"),
    # A charger's transactions by start; a start's repeat (the same start on its EVSE).
    Index("ix_transactions_charger_started_evse", "charger_id", "started_at", "evse_id"),
    Index("ix_transactions_id_token_status", "id_token", "status"),
    # The open transactions on an EVSE (every start looks them up), and the dashboard's
    # active sessions. A statement that means to use it names the status literally
    # (``ACTIVE_TRANSACTION``): a bound one would keep it out of the statement's generic
    # plan. No index leads with the status alone: in a generic plan made while the table
    # was empty, one did as well as (id_token, status), and a token's lookup then read
    # every active transaction.
    Index(
        "ix_transactions_active",
        "charger_id",
        "evse_id",
        postgresql_where=text(f"status = {_ACTIVE}"),
        sqlite_where=text(f"status = {_ACTIVE}"),
    ),
    # The dashboard's transactions list: its sorts (ties by id) and its date range.
    Index("ix_transactions_started", "started_at", "id"),
    Index("ix_transactions_stopped", "stopped_at", "id"),
    Index("ix_transactions_energy", "energy_wh", "id"),
)

# The condition ``ix_transactions_active`` is made for, as every plan can use it.
ACTIVE_TRANSACTION = transactions.c.status == literal_column(_ACTIVE)

# Every event a charger reported about a transaction; the transaction row is derived
# from them (chargegrid.domain.transaction_state). A numbered event is kept once.
transaction_events = Table(
    "transaction_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "transaction_pk",
        BigInteger,
        ForeignKey("transactions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq_no", Integer),
    Column("event_type", String(8), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("trigger_reason", String(32)),
    Column("charging_state", String(16)),
    Column("stopped_reason", String(32)),
    Column("id_token", String(255)),
    Column("id_token_type", String(20)),
    Column("authorization_status", String(32)),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("meter_start_wh", Float),
    Column("meter_stop_wh", Float),
    Column("energy_first_at", UTCDateTime),
    Column("energy_first_wh", Float),
    Column("energy_last_at", UTCDateTime),
    Column("energy_last_wh", Float),
    Column("offline", Boolean, nullable=False, server_default="0"),
    Column("number_of_phases", Integer),
    Column("cable_max_current", Integer),
    Column("reservation_id", Integer),
    Column("remote_start_id", Integer),
    Column("time_spent_charging_s", Integer),
    Column("received_at", UTCDateTime, nullable=False),
    # Whether the transaction's state still depends on this event (only those are read back).
    Column("decisive", Boolean, nullable=False, server_default="1"),
    UniqueConstraint("transaction_pk", "seq_no"),
    Index("ix_transaction_events_decisive", "transaction_pk", "decisive"),
)

# The meter samples and the message log take most of what chargers send, several rows a
# message: they have no foreign keys, whose checks (a lookup and a row lock on the
# charger or transaction per row) cost PostgreSQL a tenth of its time under load. Their
# rows are written for a charger that is registered, and samples with the transaction
# read or made in the same database transaction; nothing in the platform deletes
# chargers or transactions, so their rows are history that stays. Samples are read by
# transaction only: they have no index by charger.
meter_samples = Table(
    "meter_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("transaction_pk", BigInteger),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer),
    Column("sampled_at", UTCDateTime, nullable=False),
    Column("measurand", String(40), nullable=False),
    Column("phase", String(8)),
    Column("unit", String(16)),
    Column("context", String(24)),
    Column("location", String(8)),
    Column("value", Float),
    Column("signed_data", Text),
    Index("ix_meter_samples_transaction", "transaction_pk", "sampled_at"),
)

message_log = Table(  # no foreign key: see meter_samples
    "message_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("direction", String(3), nullable=False),  # "in": from charger, "out": to charger
    Column("unique_id", String(36), nullable=False),
    Column("action", String(64)),
    Column("payload", Text, nullable=False),
    Column("response", Text),
    Column("error_code", String(40)),
    Column("error_description", Text),
    Column("received_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("latency_ms", Float),
    Index("ix_message_log_charger_unique", "charger_id", "unique_id"),
    Index("ix_message_log_charger_received", "charger_id", "received_at"),
)

security_events = Table(
    "security_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("type", String(50), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("tech_info", String(255)),
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_security_events_charger_occurred", "charger_id", "occurred_at"),
)

certificate_requests = Table(
    "certificate_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("csr", Text, nullable=False),
    Column("certificate_type", String(40)),
    Column("status", String(16), nullable=False),
    Column("reason", String(255)),  # why a request was rejected
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
)

# Certificates the built-in CSMS certificate authority issued to chargers.
certificates = Table(
    "certificates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column(
        "request_id",
        BigInteger,
        ForeignKey("certificate_requests.id", ondelete="SET NULL"),
    ),
    Column("certificate_type", String(40), nullable=False),
    Column("serial_number", String(40), nullable=False, unique=True),  # hex
    Column("fingerprint_sha256", String(64), nullable=False, unique=True),  # hex
    Column("subject", String(255), nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    Column("not_after", UTCDateTime, nullable=False),
    Column("certificate", Text, nullable=False),  # PEM
    Column("issued_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_certificates_charger_issued", "charger_id", "issued_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# The device model a charger reports (OCPP 2.x NotifyReport): one row per variable of a
# component. Absent instances are '' and absent EVSE / connector ids 0 (real ones are > 0),
# so that the unique key holds no NULLs.
device_variables = Table(
    "device_variables",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("component_name", String(50), nullable=False),
    Column("component_instance", String(50), nullable=False),
    Column("evse_id", Integer, nullable=False, server_default="0"),
    Column("connector_id", Integer, nullable=False, server_default="0"),
    Column("variable_name", String(50), nullable=False),
    Column("variable_instance", String(50), nullable=False),
    Column("data_type", String(16)),
    Column("unit", String(16)),
    Column("min_limit", Float),
    Column("max_limit", Float),
    Column("values_list", String(1000)),
    Column("supports_monitoring", Boolean),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    UniqueConstraint(
        "charger_id",
        "component_name",
        "component_instance",
        "evse_id",
        "connector_id",
        "variable_name",
        "variable_instance",
    ),
)

device_variable_attributes = Table(
    "device_variable_attributes",
    metadata,
    Column(
        "variable_id",
        BigInteger,
        ForeignKey("device_variables.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("type", String(8), primary_key=True),  # Actual, Target, MinSet, MaxSet
    Column("value", String(2500)),
    Column("mutability", String(10)),
    Column("persistent", Boolean),
    Column("constant", Boolean),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Events of monitored variables (OCPP 2.x NotifyEvent).
charger_events = Table(
    "charger_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("actual_value", String(2500), nullable=False),
    Column("component_name", String(50), nullable=False),
    Column("component_instance", String(50)),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("variable_name", String(50), nullable=False),
    Column("variable_instance", String(50)),
    Column("notification_type", String(32), nullable=False),
    Column("cause", Integer),
    Column("tech_code", String(50)),
    Column("tech_info", String(500)),
    Column("cleared", Boolean),
    Column("transaction_id", String(36)),
    Column("variable_monitoring_id", Integer),
    Column("generated_at", UTCDateTime),
    Column("seq_no", Integer),
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_charger_events_charger_occurred", "charger_id", "occurred_at"),
)

# Reports that no module owns yet (charging limits, EV charging needs, display messages,
# ...), kept as the charger sent them and findable by kind, request and EVSE.
charger_reports = Table(
    "charger_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("request_id", Integer),
    Column("seq_no", Integer),
    Column("tbc", Boolean),
    Column("evse_id", Integer),
    Column("status", String(40)),
    Column("payload", JSON, nullable=False),
    Column("generated_at", UTCDateTime),
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_charger_reports_charger_kind", "charger_id", "kind", "received_at"),
)

# Operations asked of a charger through the API (chargegrid.domain.services.commands):
# queued until its charger is connected, then sent once and settled by its answer.
commands = Table(
    "commands",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("name", String(40), nullable=False),  # version-neutral name, or "ocpp" (raw)
    Column("params", JSON, nullable=False),  # what the caller asked for
    Column("ocpp_version", String(8)),  # of the charger when it was sent
    Column("action", String(64)),  # the OCPP action it became
    Column("request", JSON),  # the OCPP payload sent
    Column("response", JSON),  # the charger's answer
    Column("state", String(16), nullable=False),
    Column("error", String(1000)),
    # The transaction it started (remote start) or addressed (remote stop).
    Column("transaction_pk", BigInteger, ForeignKey("transactions.id", ondelete="SET NULL")),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("id_token", String(255)),
    Column("requested_by", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_commands_charger_state", "charger_id", "state", "id"),
    # A new transaction's remote start: the latest of its charger for its id token.
    Index("ix_commands_charger_token", "charger_id", "id_token", "id"),
    Index("ix_commands_state_expires", "state", "expires_at"),
    Index("ix_commands_transaction", "transaction_pk"),
)

# 1.6 configuration keys as last read from (or successfully changed on) a charger.
configuration_keys = Table(
    "configuration_keys",
    metadata,
    Column("charger_id", String(CHARGER_ID), primary_key=True),
    Column("key", String(50), primary_key=True),
    Column("value", String(500)),
    Column("readonly", Boolean),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
)

# The local authorization list each charger holds: its version and its entries, as
# last confirmed by the charger (SendLocalList accepted, GetLocalListVersion).
local_lists = Table(
    "local_lists",
    metadata,
    Column("charger_id", String(CHARGER_ID), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
)

local_list_entries = Table(
    "local_list_entries",
    metadata,
    Column("charger_id", String(CHARGER_ID), primary_key=True),
    Column("id_token", String(255), primary_key=True),
    Column("type", String(20)),
    Column("status", String(16), nullable=False),
    Column("expires_at", UTCDateTime),
    Column("group_id", String(255)),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_local_list_entries_id_token", "id_token"),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False, unique=True),  # stored lower-case
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(100)),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Secrets the platform generates for itself and shares between its nodes
# (e.g. the key that signs access tokens).
platform_secrets = Table(
    "platform_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("description", String(255)),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# One event to one webhook: written in the transaction that caused the event (so none is
# lost), then posted and retried with back-off by the delivery worker.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "webhook_id",
        BigInteger,
        ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
)

# Money: Numeric with the 4 decimals of OCPI numbers, never floats.
Money = Numeric(18, 4)

# OCPI 2.2.1 tariffs (chargegrid.domain.services.tariffs), each kept as its OCPI JSON;
# ``tariff_id`` is the OCPI id.
tariffs = Table(
    "tariffs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tariff_id", String(36), nullable=False, unique=True),
    Column("country_code", String(2), nullable=False),
    Column("party_id", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The tariffs of a connector (OCPI tariff_ids) in order of preference; EVSE and connector
# 0 hold the charger's default for connectors without tariffs of their own.
tariff_assignments = Table(
    "tariff_assignments",
    metadata,
    Column("charger_id", String(CHARGER_ID), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("connector_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column(
        "tariff_pk",
        BigInteger,
        ForeignKey("tariffs.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_tariff_assignments_tariff", "tariff_pk"),
)

# A copy of the tariff in force when a transaction started: later edits do not reach it.
transaction_tariffs = Table(
    "transaction_tariffs",
    metadata,
    Column(
        "transaction_pk",
        BigInteger,
        ForeignKey("transactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tariff_id", String(36), nullable=False),
    Column("document", Text, nullable=False),  # the OCPI tariff as it was
    Column("time_zone", String(64), nullable=False),  # where it is read
    Column("source", String(16), nullable=False),  # connector or charger (the default)
    Column("frozen_at", UTCDateTime, nullable=False),
    # The running cost last sent to the charger (OCPP 2.x CostUpdated), and when.
    Column("notified_cost", Money),
    Column("notified_at", UTCDateTime),
)

# Charge Detail Records (OCPI 2.2.1): immutable once written; a correction is a credit
# CDR (``credit``, same ``issue``) followed by a CDR of the next issue. The columns
# repeat what lists and exports filter and show; ``document`` is the CDR itself.
cdrs = Table(
    "cdrs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("cdr_id", String(39), nullable=False, unique=True),
    Column("transaction_pk", BigInteger, ForeignKey("transactions.id", ondelete="SET NULL")),
    Column("issue", Integer, nullable=False),
    Column("credit", Boolean, nullable=False, server_default="0"),
    Column("credit_reference_id", String(39)),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("session_id", String(36)),
    Column("id_token", String(255)),
    Column("start_date_time", UTCDateTime, nullable=False),
    Column("end_date_time", UTCDateTime, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_cost_excl_vat", Money, nullable=False),
    Column("total_cost_incl_vat", Money),
    Column("total_energy", Money, nullable=False),
    Column("total_time", Money, nullable=False),
    Column("total_parking_time", Money),
    Column("tariff_id", String(36)),
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("transaction_pk", "issue", "credit"),
    Index("ix_cdrs_created", "created_at"),
    Index("ix_cdrs_charger_created", "charger_id", "created_at"),
    Index("ix_cdrs_id_token", "id_token"),
)

# Ended transactions still waiting for their CDR: made as soon as the charger has sent
# every event, or at ``due_at`` from what arrived by then.
pending_cdrs = Table(
    "pending_cdrs",
    metadata,
    Column(
        "transaction_pk",
        BigInteger,
        ForeignKey("transactions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("due_at", UTCDateTime, nullable=False),
    Index("ix_pending_cdrs_due", "due_at"),
)
