"""transactions by start, end and energy (the dashboard's transactions list and its sorts)"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_transactions_started": ["started_at", "id"],
    "ix_transactions_stopped": ["stopped_at", "id"],
    "ix_transactions_energy": ["energy_wh", "id"],
}


def upgrade() -> None:
    """Upgrade the schema."""
    for name, columns in INDEXES.items():
        op.create_index(name, "transactions", columns, unique=False)


def downgrade() -> None:
    """Downgrade the schema."""
    for name in INDEXES:
        op.drop_index(name, table_name="transactions")
