"""the message log and the meter samples without foreign keys, the samples without an index
by charger (their most frequent writes; no query reads samples by charger)"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (constraint, column, referred table)
FOREIGN_KEYS = {
    "message_log": [("fk_message_log_charger_id_chargers", "charger_id", "chargers")],
    "meter_samples": [
        ("fk_meter_samples_charger_id_chargers", "charger_id", "chargers"),
        ("fk_meter_samples_transaction_pk_transactions", "transaction_pk", "transactions"),
    ],
}


SAMPLES_BY_CHARGER = "ix_meter_samples_charger_sampled"


def upgrade() -> None:
    """Upgrade the schema."""
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _, _ in keys:
                batch_op.drop_constraint(name, type_="foreignkey")
    op.drop_index(SAMPLES_BY_CHARGER, table_name="meter_samples")


def downgrade() -> None:
    """Downgrade the schema."""
    op.create_index(SAMPLES_BY_CHARGER, "meter_samples", ["charger_id", "sampled_at"])
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, referred in keys:
                batch_op.create_foreign_key(name, referred, [column], ["id"], ondelete="CASCADE")
