"""the lookups of a start: commands by charger and id token (the remote start it
answers); transactions by charger, start and EVSE (a repeat of it)"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade the schema."""
    op.create_index(
        "ix_commands_charger_token", "commands", ["charger_id", "id_token", "id"], unique=False
    )
    op.drop_index("ix_transactions_charger_started", table_name="transactions")
    op.create_index(
        "ix_transactions_charger_started_evse",
        "transactions",
        ["charger_id", "started_at", "evse_id"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_index("ix_transactions_charger_started_evse", table_name="transactions")
    op.create_index(
        "ix_transactions_charger_started",
        "transactions",
        ["charger_id", "started_at"],
        unique=False,
    )
    op.drop_index("ix_commands_charger_token", table_name="commands")
