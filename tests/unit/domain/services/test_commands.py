"""The command life cycle in the database: expiry, time-outs, and who hears of the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargegrid.domain.model import CommandState
from chargegrid.domain.services import chargers, commands
from chargegrid.domain.services.webhooks import EventType
from chargegrid.storage.engine import Database
from tests.unit.domain.services.test_webhooks import create, events

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


async def queue(db: Database, name: str, expires_in: timedelta) -> int:
    async with db.begin() as conn:
        command = await commands.submit(
            conn,
            charger_id="CP-1",
            name=name,
            params={"type": "soft"},
            now=NOW,
            expires_at=NOW + expires_in,
            requested_by="token:ops",
        )
        return command.id


async def test_a_finished_command_is_published_once(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP-1", password=None, now=NOW, security_profile=0)
    await create(db, event_types=[EventType.COMMAND_FINISHED.value])
    command_id = await queue(db, "reset", timedelta(hours=1))
    async with db.begin() as conn:
        command = await commands.get(conn, command_id)
        assert await commands.finish(
            conn, command, CommandState.REJECTED, now=NOW, response={"status": "Rejected"}
        )
        assert not await commands.finish(conn, command, CommandState.ACCEPTED, now=NOW)
        assert (await commands.get(conn, command_id)).state is CommandState.REJECTED
    (event,) = await events(db)
    assert event["type"] == "command.finished"
    assert event["data"]["command_id"] == command_id
    assert event["data"]["state"] == "rejected"
    assert event["data"]["response"] == {"status": "Rejected"}


async def test_the_sweep_expires_queued_and_times_out_unanswered_commands(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP-1", password=None, now=NOW, security_profile=0)
    await create(db, event_types=[EventType.COMMAND_FINISHED.value])
    soon = await queue(db, "reset", timedelta(seconds=10))
    later = await queue(db, "clear-cache", timedelta(hours=1))
    sent = await queue(db, "reset", timedelta(hours=1))
    async with db.begin() as conn:
        command = await commands.get(conn, sent)
        assert await commands.mark_sent(
            conn, command, ocpp_version="1.6", action="Reset", request={"type": "Soft"}, now=NOW
        )
        assert not await commands.mark_sent(
            conn, command, ocpp_version="1.6", action="Reset", request={"type": "Soft"}, now=NOW
        ), "a command goes out once"
    async with db.begin() as conn:
        moment = NOW + timedelta(seconds=11)
        assert await commands.expire_due(conn, moment) == [soon]
        assert await commands.time_out_unanswered(conn, sent_before=NOW, now=moment) == []
        assert await commands.time_out_unanswered(
            conn, sent_before=NOW + timedelta(seconds=1), now=moment
        ) == [sent]
        states = [(await commands.get(conn, i)).state for i in (soon, later, sent)]
        assert states == [CommandState.EXPIRED, CommandState.QUEUED, CommandState.TIMEOUT]
        assert (await commands.next_queued(conn, "CP-1")).id == later  # type: ignore[union-attr]
    assert [e["data"]["command_id"] for e in await events(db)] == [soon, sent]
