"""The baseline central system, written the conventional way, as its own process.

One PyPI ``ocpp`` v1.6 ``ChargePoint`` per connection on ``websockets.serve``, ``@on``
handlers for the messages of the load mix, the library's schema validation on (its
default: both the request and the response, in its thread pool), answers computed in
memory without persisting anything. It is what chargegrid is compared with in
``benchmarks.bench_load``.

Run: ``.venv/bin/python -m benchmarks.baseline_csms --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import ocpp.messages
import ocpp.routing
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

F = TypeVar("F", bound=Callable[..., Any])
on: Callable[[str], Callable[[F], F]] = ocpp.routing.on

HEARTBEAT_INTERVAL = 300
_transaction_ids = itertools.count(1)
_ACCEPTED = IdTagInfo(status=AuthorizationStatus.accepted)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class BaselineChargePoint(ChargePoint):  # type: ignore[misc]  # the library is untyped
    """The conventional handlers: decoded kwargs in, a dataclass out."""

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any
    ) -> Any:
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: Any
    ) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> Any:
        return call_result.Authorize(id_tag_info=_ACCEPTED)

    @on(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any
    ) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids), id_tag_info=_ACCEPTED
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs: Any
    ) -> Any:
        return call_result.StopTransaction(id_tag_info=_ACCEPTED)

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[Any], **kwargs: Any
    ) -> Any:
        return call_result.MeterValues()


async def _handle(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request is not None else "/"
    charge_point = BaselineChargePoint(path.rsplit("/", 1)[-1], connection)
    try:
        await charge_point.start()
    except Exception:  # the peer went away: the library surfaces it as ConnectionClosed
        return


async def main(host: str, port: int, ping_interval: float | None) -> None:
    async with serve(
        _handle,
        host,
        port,
        subprotocols=[Subprotocol("ocpp1.6")],
        compression=None,
        ping_interval=ping_interval,
        max_size=262_144,
    ) as server:
        print(f"listening on {host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ping-interval", type=float, default=60.0, help="0 disables pings")
    parser.add_argument(
        "--inline-validation",
        action="store_true",
        help="validate on the event loop instead of the library's default thread pool",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.inline_validation:
        ocpp.messages.ASYNC_VALIDATION = False
    asyncio.run(main(args.host, args.port, args.ping_interval or None))
