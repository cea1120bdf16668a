"""open transactions by EVSE, in place of transactions by status and stop time"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    """Upgrade the schema."""
    op.drop_index("ix_transactions_status_stopped", table_name="transactions")
    op.create_index(
        "ix_transactions_active",
        "transactions",
        ["charger_id", "evse_id"],
        unique=False,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_index("ix_transactions_active", table_name="transactions")
    op.create_index(
        "ix_transactions_status_stopped", "transactions", ["status", "stopped_at"], unique=False
    )
