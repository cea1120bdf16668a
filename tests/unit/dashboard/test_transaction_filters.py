"""The transactions list's filters, read from its URL and written back into its links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from chargegrid.dashboard.routes.transactions import transaction_query
from chargegrid.domain.model import TransactionStatus


def test_filters_and_their_links() -> None:
    query, state = transaction_query(
        {
            "charger": " CP-1 ",
            "token": "04A2",
            "status": "completed",
            "from": "2030-01-02",
            "to": "2030-01-03",
            "sort": "energy",
            "page": "3",
        }
    )
    assert query.charger_id == "CP-1"
    assert query.id_token == "04A2"
    assert query.status is TransactionStatus.COMPLETED
    assert query.started_from == datetime(2030, 1, 2, tzinfo=UTC)
    assert query.started_before == datetime(2030, 1, 4, tzinfo=UTC)  # the 3rd included
    assert (query.sort, query.descending) == ("energy", True)  # newest, largest first
    assert state.paging.number == 3
    link = state.url(page=2)
    assert link == (
        "/transactions?charger=CP-1&token=04A2&status=completed&from=2030-01-02"
        "&to=2030-01-03&sort=energy&page=2"
    )
    assert transaction_query(dict(_pairs(link)))[0] == query
    ascending = state.sort_url("energy")
    assert "dir=asc" in ascending
    assert transaction_query(dict(_pairs(ascending)))[0].descending is False


def test_nonsense_is_ignored() -> None:
    query, state = transaction_query(
        {"status": "maybe", "from": "yesterday", "sort": "price; drop", "dir": "up"}
    )
    assert query.status is None
    assert query.started_from is None
    assert (query.sort, query.descending) == ("started", True)
    assert state.filters == ()
    assert state.url() == "/transactions?sort=started"


def _pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)
