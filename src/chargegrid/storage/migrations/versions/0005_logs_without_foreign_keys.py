"""the message log and the meter samples without foreign keys (their most frequent writes)"""

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


def upgrade() -> None:
    """Upgrade the schema."""
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _, _ in keys:
                batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    """Downgrade the schema."""
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, referred in keys:
                batch_op.create_foreign_key(name, referred, [column], ["id"], ondelete="CASCADE")
