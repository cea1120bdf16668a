"""Tariffs and CDRs: tariffs, their assignment to connectors, the tariff frozen onto each
transaction, Charge Detail Records and the transactions waiting for theirs."""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from chargegrid.storage.types import UTCDateTime

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade the schema."""
    op.create_table(
        "tariffs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tariff_id", sa.String(length=36), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint("tariff_id", name=op.f("uq_tariffs_tariff_id")),
    )
    op.create_table(
        "tariff_assignments",
        sa.Column("charger_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tariff_pk", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charger_id"],
            ["chargers.id"],
            name=op.f("fk_tariff_assignments_charger_id_chargers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tariff_pk"],
            ["tariffs.id"],
            name=op.f("fk_tariff_assignments_tariff_pk_tariffs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "charger_id", "evse_id", "connector_id", "position", name=op.f("pk_tariff_assignments")
        ),
    )
    with op.batch_alter_table("tariff_assignments", schema=None) as batch_op:
        batch_op.create_index("ix_tariff_assignments_tariff", ["tariff_pk"], unique=False)

    op.create_table(
        "cdrs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cdr_id", sa.String(length=39), nullable=False),
        sa.Column("transaction_pk", sa.BigInteger(), nullable=True),
        sa.Column("issue", sa.Integer(), nullable=False),
        sa.Column("credit", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("credit_reference_id", sa.String(length=39), nullable=True),
        sa.Column("charger_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("id_token", sa.String(length=255), nullable=True),
        sa.Column("start_date_time", UTCDateTime(), nullable=False),
        sa.Column("end_date_time", UTCDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cost_excl_vat", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("total_cost_incl_vat", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("total_energy", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("total_time", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("total_parking_time", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("tariff_id", sa.String(length=36), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_cdrs_transaction_pk_transactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("cdr_id", name=op.f("uq_cdrs_cdr_id")),
        sa.UniqueConstraint(
            "transaction_pk", "issue", "credit", name=op.f("uq_cdrs_transaction_pk_issue_credit")
        ),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.create_index("ix_cdrs_charger_created", ["charger_id", "created_at"], unique=False)
        batch_op.create_index("ix_cdrs_created", ["created_at"], unique=False)
        batch_op.create_index("ix_cdrs_id_token", ["id_token"], unique=False)

    op.create_table(
        "pending_cdrs",
        sa.Column("transaction_pk", sa.BigInteger(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_pending_cdrs_transaction_pk_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transaction_pk", name=op.f("pk_pending_cdrs")),
    )
    with op.batch_alter_table("pending_cdrs", schema=None) as batch_op:
        batch_op.create_index("ix_pending_cdrs_due", ["due_at"], unique=False)

    op.create_table(
        "transaction_tariffs",
        sa.Column("transaction_pk", sa.BigInteger(), nullable=False),
        sa.Column("tariff_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("frozen_at", UTCDateTime(), nullable=False),
        sa.Column("notified_cost", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("notified_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_transaction_tariffs_transaction_pk_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transaction_pk", name=op.f("pk_transaction_tariffs")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tariff_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("tariff_id")

    op.drop_table("transaction_tariffs")
    with op.batch_alter_table("pending_cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_cdrs_due")

    op.drop_table("pending_cdrs")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_id_token")
        batch_op.drop_index("ix_cdrs_created")
        batch_op.drop_index("ix_cdrs_charger_created")

    op.drop_table("cdrs")
    with op.batch_alter_table("tariff_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_tariff_assignments_tariff")

    op.drop_table("tariff_assignments")
    op.drop_table("tariffs")
