import pytest
from sqlalchemy.exc import CompileError

from chargegrid.storage.prebuilt import check_columns
from chargegrid.storage.tables import transactions


def test_column_names_pass() -> None:
    check_columns(transactions, ["status", "updated_at"])


def test_an_unknown_name_is_refused_as_values_would() -> None:
    with pytest.raises(CompileError, match="Unconsumed column names: nope"):
        check_columns(transactions, ["status", "nope"])


def test_names_checked_once_stay_checked_and_unknown_ones_refused_each_time() -> None:
    check_columns(transactions, ("status", "stopped_at"))
    check_columns(transactions, ("status", "stopped_at"))  # found in the checked sets
    for _ in range(2):
        with pytest.raises(CompileError, match="Unconsumed column names: nope"):
            check_columns(transactions, ("stopped_at", "nope"))
