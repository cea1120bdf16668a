"""Chargers of the PyPI ``ocpp`` package that answer the central system's calls.

Each answers the actions it is given with a fixed payload (or one computed from the
request) and keeps every request it got, in order, so tests can check what arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201

from tests.integration.harness import ServerProcess

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


class Received:
    """What a charger was asked, in order: (action, request payload in snake_case)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._arrived = asyncio.Condition()

    async def add(self, action: str, payload: dict[str, Any]) -> None:
        async with self._arrived:
            self.calls.append((action, payload))
            self._arrived.notify_all()

    async def wait_for(self, count: int, within: float = 10) -> list[tuple[str, dict[str, Any]]]:
        """The first ``count`` calls, once they have arrived."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.calls) >= count)
        return self.calls[:count]

    @property
    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]


def _answering_class(base: type, results: Any, answers: Mapping[str, Answer]) -> type:
    namespace: dict[str, Any] = {}
    for action, answer in answers.items():

        def handler_for(action: str, answer: Answer) -> Any:
            async def handle(self: Any, **payload: Any) -> Any:
                await self.received.add(action, payload)
                body = answer(payload) if callable(answer) else answer
                return getattr(results, action)(**body)

            handle.__name__ = f"on_{action}"  # the ocpp package routes by function name
            return on(action)(handle)

        namespace[f"on_{action}"] = handler_for(action, answer)
    return type(f"Answering{base.__name__}", (base,), namespace)


async def boot16(charger: Any) -> None:
    """Boot an OCPP 1.6 charger (accepted), after which commands reach it."""
    response = await charger.call(
        call16.BootNotification(charge_point_vendor="Acme", charge_point_model="W1")
    )
    assert response.status == "Accepted"


@contextlib.asynccontextmanager
async def answering_charger(
    server: ServerProcess,
    charger_id: str,
    password: str,
    answers: Mapping[str, Answer],
    *,
    version: str = "1.6",
) -> AsyncIterator[Any]:
    """A connected charger that answers ``answers`` (action -> response payload)."""
    base, results = (ChargePoint16, result16) if version == "1.6" else (ChargePoint201, result201)
    cls = _answering_class(base, results, answers)
    async with server.websocket(charger_id, password, subprotocols=(f"ocpp{version}",)) as ws:
        charge_point = cls(charger_id, ws, response_timeout=10)
        charge_point.received = Received()
        task = asyncio.create_task(charge_point.start())
        try:
            yield charge_point
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def send_command(
    api: Any, charger: Any, charger_id: str, name: str, body: Any
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Send a command and wait for its end: the command resource, and what the charger
    was asked meanwhile (action, payload in snake_case)."""
    before = len(charger.received.calls)
    response = await api.post(f"/chargers/{charger_id}/commands/{name}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result, charger.received.calls[before:]


async def refused_command(
    api: Any, charger: Any, charger_id: str, name: str, body: Any
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Send a command the charger's version cannot carry: refused before it is queued
    (422, or 404 for what it names that does not exist); ({"error": message}, calls)."""
    before = len(charger.received.calls)
    response = await api.post(f"/chargers/{charger_id}/commands/{name}", json=body)
    assert response.status_code in (404, 422), response.text
    listed = await api.get(f"/chargers/{charger_id}/commands", params={"name": name})
    assert all(item["params"] != body for item in listed.json()["items"]), "nothing is kept"
    return {"error": response.json()["error"]["message"]}, charger.received.calls[before:]
