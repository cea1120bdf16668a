"""Which charger identities are accepted."""

from __future__ import annotations

import pytest

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services.chargers import check_charger_id


@pytest.mark.parametrize("charger_id", ["CP1", "CP-001", "a.b_c~d*e@f+g|h=i", "X" * 48])
def test_valid_ids(charger_id: str) -> None:
    check_charger_id(charger_id)


@pytest.mark.parametrize("charger_id", ["", "X" * 49, "a/b", "a:b", "a b", "é", "a?b", "a%2F"])
def test_invalid_ids(charger_id: str) -> None:
    with pytest.raises(DomainError) as raised:
        check_charger_id(charger_id)
    assert raised.value.kind is ErrorKind.INVALID
