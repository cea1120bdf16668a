"""transactions by status and stop time (the dashboard's active sessions and energy per day)"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade the schema."""
    op.create_index(
        "ix_transactions_status_stopped", "transactions", ["status", "stopped_at"], unique=False
    )


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_index("ix_transactions_status_stopped", table_name="transactions")
