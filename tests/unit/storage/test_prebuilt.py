import pytest
from sqlalchemy.exc import CompileError

from chargegrid.storage.prebuilt import check_columns
from chargegrid.storage.tables import transactions


def test_column_names_pass() -> None:
    check_columns(transactions, ["status", "updated_at"])


def test_an_unknown_name_is_refused_as_values_would() -> None:
    with pytest.raises(CompileError, match="Unconsumed column names: nope"):
        check_columns(transactions, ["status", "nope"])
