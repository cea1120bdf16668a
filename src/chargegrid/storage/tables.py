"""Database tables (SQLAlchemy Core); the Alembic migrations mirror this module."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    UniqueConstraint("charger_id", "transaction_id"),
    Index("ix_transactions_charger_started", "charger_id", "started_at"),
    Index("ix_transactions_id_token_status", "id_token", "status"),
)

meter_samples = Table(
    "meter_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("charger_id", String(CHARGER_ID), nullable=False),
    Column("transaction_pk", BigInteger, ForeignKey("transactions.id", ondelete="CASCADE")),
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
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
    Index("ix_meter_samples_transaction", "transaction_pk", "sampled_at"),
    Index("ix_meter_samples_charger_sampled", "charger_id", "sampled_at"),
)

message_log = Table(
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
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
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
    Column("received_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
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
