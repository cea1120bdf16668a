"""The load generator: thousands of OCPP 1.6J chargers driven from one process.

Each charger is one WebSocket connection run by the sans-I/O ``websockets`` client
protocol on a plain asyncio transport: no task per connection and none per CALL, so a
single process drives thousands of CALLs/s. After the ramp (connect, BootNotification,
a StartTransaction per connector) a central pacer draws Poisson arrivals at the target
rate and gives each to the charger that has been idle longest; that charger picks its
message from the mix and sends it. One CALL is outstanding per charger (OCPP-J), and
every CALL is timed from the write to its reply in a preallocated log histogram.

The mix: MeterValues (in the connector's transaction), Heartbeat, StatusNotification,
and transaction cycles (StopTransaction, then Authorize and StartTransaction on the
charger's next turns), each cycle counting its three CALLs against its share.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import msgspec
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from chargegrid.ocpp.protocol import (
    ErrorReply,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
)
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v16 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.values import immutable

MAX_FRAME_BYTES = 65_536
_MIN_SLEEP = 0.001
_SUBPROTOCOL = Subprotocol(OcppVersion.V16.subprotocol)

# Histogram: bucket i holds latencies in [e^(i/K), e^((i+1)/K)) µs, about 1% wide.
_BUCKETS_PER_E = 100.0
_BUCKETS = int(math.log(1e9) * _BUCKETS_PER_E) + 1  # up to 1,000 s


class LatencyHistogram:
    """Latencies in fixed log-spaced buckets: O(1) per sample, no allocation."""

    __slots__ = ("_counts", "count", "max_s", "total_s")

    def __init__(self) -> None:
        self._counts = [0] * _BUCKETS
        self.count = 0
        self.max_s = 0.0
        self.total_s = 0.0

    def record(self, seconds: float) -> None:
        micros = seconds * 1e6
        index = int(math.log(micros) * _BUCKETS_PER_E) if micros > 1.0 else 0
        self._counts[min(index, _BUCKETS - 1)] += 1
        self.count += 1
        self.total_s += seconds
        if seconds > self.max_s:
            self.max_s = seconds

    def percentile(self, fraction: float) -> float:
        """The latency (s) below which ``fraction`` of samples fall (bucket upper edge)."""
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index, count in enumerate(self._counts):
            seen += count
            if seen >= rank:
                return min(math.exp((index + 1) / _BUCKETS_PER_E) / 1e6, self.max_s)
        return self.max_s


@dataclass(slots=True)
class Window:
    """What happened to the CALLs sent while this window was current."""

    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    latency_by_action: dict[str, LatencyHistogram] = field(default_factory=dict)
    sent: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    outstanding: int = 0
    unsent: int = 0  # arrivals that found no idle charger
    late: int = 0  # replies that came after their CALL had timed out
    drained: asyncio.Event | None = None  # set when the last outstanding CALL ends
    started: float = field(default_factory=time.perf_counter)
    # By the second of the window its answer came in: a backlog that stands shows in
    # every second, one that a stall made in a few.
    latency_by_second: list[LatencyHistogram] = field(default_factory=list)

    def record(self, action: str, seconds: float, at: float) -> None:
        """An answered CALL's latency, overall, for its action, and for the second
        (``at``, ``time.perf_counter``) its answer came in."""
        self.latency.record(seconds)
        of_action = self.latency_by_action.get(action)
        if of_action is None:
            of_action = self.latency_by_action[action] = LatencyHistogram()
        of_action.record(seconds)
        second = max(0, int(at - self.started))
        by_second = self.latency_by_second
        while len(by_second) <= second:
            by_second.append(LatencyHistogram())
        by_second[second].record(seconds)

    def finish(self) -> None:
        """One CALL of this window ended (answered, failed or timed out)."""
        self.outstanding -= 1
        if self.outstanding == 0 and self.drained is not None:
            self.drained.set()

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@immutable
class MessageMix:
    """Share of CALLs per kind; a transaction cycle is three CALLs."""

    meter_values: float = 0.70
    heartbeat: float = 0.10
    status: float = 0.10
    transactions: float = 0.10

    def thresholds(self) -> tuple[float, float, float]:
        """Cumulative probabilities of a draw being MeterValues, Heartbeat, Status.

        A draw that starts a cycle yields three CALLs, so its probability q solves
        3q / (1 + 2q) = transactions, and the single-CALL kinds scale by (1 + 2q).
        """
        total = self.meter_values + self.heartbeat + self.status + self.transactions
        tx = self.transactions / total
        q = tx / (3 - 2 * tx)
        scale = 1 + 2 * q
        mv = self.meter_values / total * scale
        hb = self.heartbeat / total * scale
        st = self.status / total * scale
        return mv, mv + hb, mv + hb + st


class SetupFailed(Exception):
    """A charger could not connect, boot or start its transactions."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@immutable
class RampReport:
    """How the ramp went: chargers set up, failures by kind, its duration."""

    connected: int
    failed: Counter[str]
    seconds: float


class LoadGenerator:
    """A fleet of simulated chargers against one CSMS, paced from one event loop."""

    def __init__(
        self,
        url: str,
        *,
        charger_ids: list[str],
        password: str | None = None,
        connectors: int = 2,
        mix: MessageMix | None = None,
        call_timeout: float = 10.0,
        seed: int = 1,
    ) -> None:
        """``url`` is the base, ``ws://host:port/ocpp``; a charger connects to url/id."""
        self.url = url.rstrip("/")
        self.charger_ids = charger_ids
        self.password = password
        self.connectors = connectors
        self.call_timeout = call_timeout
        self.protocol = OcppProtocol(
            OcppVersion.V16, role="charger", max_frame_bytes=MAX_FRAME_BYTES
        )
        self.thresholds = (mix or MessageMix()).thresholds()
        self.random = random.Random(seed)
        self.setup = Window()
        self.chargers: list[_Charger] = []
        self.idle: deque[_Charger] = deque()
        self.disconnects = 0
        self.server_calls = 0
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def connected(self) -> int:
        return sum(1 for charger in self.chargers if charger.alive)

    @staticmethod
    def id_tag_for(charger: int, connector: int) -> str:
        """The id token of connector ``connector`` (from 1) of charger ``charger`` (from 0).

        One token per connector: a token in another open transaction is ConcurrentTx.
        """
        return f"B{charger:07d}C{connector}"

    # -- ramp ------------------------------------------------------------------------

    async def ramp(
        self, *, connect_rate: float, concurrency: int = 200, setup_timeout: float = 60.0
    ) -> RampReport:
        """Connect and set up every charger, at most ``connect_rate`` new ones a second."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())
        started = time.perf_counter()
        failed: Counter[str] = Counter()
        limit = asyncio.Semaphore(concurrency)
        tasks: list[asyncio.Task[None]] = []
        for number, charger_id in enumerate(self.charger_ids):
            await limit.acquire()
            delay = started + number / connect_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(
                asyncio.create_task(self._open(number, charger_id, limit, failed, setup_timeout))
            )
        await asyncio.gather(*tasks)
        return RampReport(self.connected, failed, time.perf_counter() - started)

    async def _open(
        self,
        number: int,
        charger_id: str,
        limit: asyncio.Semaphore,
        failed: Counter[str],
        setup_timeout: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        charger = _Charger(self, number, charger_id)
        try:
            async with asyncio.timeout(setup_timeout):
                uri = charger.ws.uri
                await loop.create_connection(lambda: charger, uri.host, uri.port)
                await charger.ready
        except SetupFailed as exc:
            failed[exc.kind] += 1
            charger.abort()
        except (OSError, TimeoutError) as exc:
            failed["connect_timeout" if isinstance(exc, TimeoutError) else "connect"] += 1
            charger.abort()
        else:
            self.chargers.append(charger)
            self.idle.append(charger)
        finally:
            limit.release()

    # -- load ------------------------------------------------------------------------

    async def run(self, rate: float, seconds: float, window: Window) -> None:
        """Send CALLs at ``rate`` a second (Poisson arrivals) for ``seconds``."""
        clock = time.perf_counter
        draw = self.random.expovariate
        now = clock()
        end = now + seconds
        next_at = now
        while now < end:
            while next_at <= now:
                self._issue(window)
                next_at += draw(rate)
            # Not under a millisecond: the event loop timers would fire at once (a spin).
            await asyncio.sleep(max(min(next_at, end) - clock(), _MIN_SLEEP))
            now = clock()

    def _issue(self, window: Window) -> None:
        idle = self.idle
        while idle:
            charger = idle.popleft()
            if charger.alive:
                charger.send_next(window)
                return
        window.unsent += 1

    async def drain(self, window: Window) -> None:
        """Wait until every CALL of ``window`` was answered, failed or timed out."""
        if window.outstanding == 0:
            return
        window.drained = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            # The sweeper times every CALL out after call_timeout; this is a backstop.
            await asyncio.wait_for(window.drained.wait(), self.call_timeout + 2.0)

    async def _sweep(self) -> None:
        """Time out CALLs left unanswered for ``call_timeout`` seconds."""
        while True:
            await asyncio.sleep(0.25)
            horizon = time.perf_counter() - self.call_timeout
            for charger in self.chargers:
                if charger.pending_id is not None and charger.pending_sent < horizon:
                    charger.timed_out()

    def close(self) -> None:
        """Drop every connection at once (the benchmark stops the server next)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for charger in self.chargers:
            charger.abort()


class _Charger(asyncio.Protocol):
    """One simulated charger: a WebSocket connection and its OCPP 1.6 state."""

    __slots__ = (
        "_cycle_connector",
        "_flip",
        "_forced",
        "_meter_wh",
        "_next_connector",
        "_pending_action",
        "_pending_window",
        "_seq",
        "_setup",
        "_transactions",
        "_transport",
        "alive",
        "charger_id",
        "gen",
        "number",
        "pending_id",
        "pending_sent",
        "ready",
        "ws",
    )

    def __init__(self, gen: LoadGenerator, number: int, charger_id: str) -> None:
        self.gen = gen
        self.number = number
        self.charger_id = charger_id
        self.ws = ClientProtocol(
            parse_uri(f"{gen.url}/{charger_id}"),
            subprotocols=[_SUBPROTOCOL],
            max_size=MAX_FRAME_BYTES,
        )
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.alive = False
        self.pending_id: str | None = None
        self.pending_sent = 0.0
        self._pending_action = ""
        self._pending_window: Window = gen.setup
        self._transport: asyncio.Transport | None = None
        self._seq = 0
        self._transactions: list[int | None] = [None] * gen.connectors
        self._meter_wh = [1000 * (number % 97)] * gen.connectors
        self._next_connector = 0
        self._cycle_connector = 0
        self._flip = False
        self._forced: deque[str] = deque()
        # Setup: BootNotification, then a StartTransaction per connector.
        self._setup: deque[str] = deque(
            ["BootNotification"] + ["StartTransaction"] * gen.connectors
        )

    # -- transport callbacks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        request = self.ws.connect()
        if self.gen.password is not None:
            token = base64.b64encode(f"{self.charger_id}:{self.gen.password}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"
        self.ws.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT or event.opcode is Opcode.BINARY:
                    self._on_frame(bytes(event.data))
            elif isinstance(event, Response):
                self._on_handshake(event)
        self._flush()
        if ws.state is State.CLOSING or ws.state is State.CLOSED:
            self._lost()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost()

    def _flush(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        for data in self.ws.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                transport.write_eof()

    def abort(self) -> None:
        self.alive = False
        if self._transport is not None:
            self._transport.abort()

    # -- protocol --------------------------------------------------------------------

    def _on_handshake(self, response: Response) -> None:
        if self.ws.handshake_exc is not None or self.ws.state is not State.OPEN:
            self._fail(f"handshake_{response.status_code}")
            return
        self.alive = True
        self._send(self._setup.popleft(), self.gen.setup)

    def _on_frame(self, data: bytes) -> None:
        gen = self.gen
        event = gen.protocol.receive(data)
        if isinstance(event, IncomingResult | IncomingError):
            self._on_answer(event)
        elif isinstance(event, IncomingCall):
            gen.server_calls += 1
            error = RpcError(ErrorKind.NOT_IMPLEMENTED, "the load generator answers no CALLs")
            self.ws.send_text(gen.protocol.error_frame(event.unique_id, error))
        elif isinstance(event, ErrorReply):
            self.ws.send_text(event.frame)

    def _on_answer(self, event: IncomingResult | IncomingError) -> None:
        window = self._pending_window
        if event.unique_id != self.pending_id:
            window.late += 1
            return
        now = time.perf_counter()
        elapsed = now - self.pending_sent
        self.pending_id = None
        window.finish()
        action = self._pending_action
        if isinstance(event, IncomingError):
            window.errors[f"callerror_{event.code}"] += 1
        else:
            try:
                response = self.gen.protocol.decode_response(action, event.payload)
            except RpcError:
                window.errors["bad_reply"] += 1
            else:
                window.answered += 1
                window.record(action, elapsed, now)
                self._apply(action, response)
        self._next_turn()

    def _apply(self, action: str, response: msgspec.Struct) -> None:
        if isinstance(response, m.StartTransactionResponse):
            self._transactions[self._cycle_connector] = response.transaction_id
            self._cycle_connector = (self._cycle_connector + 1) % self.gen.connectors
        elif isinstance(response, m.BootNotificationResponse) and response.status != "Accepted":
            self._fail(f"boot_{response.status.lower()}")

    def _next_turn(self) -> None:
        """After an answer (or a timeout): the next setup step, or back to the pool."""
        if not self.alive:
            return
        if self._setup:
            self._send(self._setup.popleft(), self.gen.setup)
        elif not self.ready.done():
            self.ready.set_result(None)  # the ramp puts it in the pool
        else:
            self.gen.idle.append(self)

    def timed_out(self) -> None:
        self.pending_id = None
        window = self._pending_window
        window.finish()
        window.errors["timeout"] += 1
        if self._pending_window is self.gen.setup:
            self._fail("setup_timeout")
        else:
            self._next_turn()

    def _lost(self) -> None:
        if self.pending_id is not None:
            self.pending_id = None
            self._pending_window.finish()
            self._pending_window.errors["disconnect"] += 1
        if self.alive and self.ready.done():
            self.gen.disconnects += 1
        self._fail("disconnect")

    def _fail(self, kind: str) -> None:
        self.alive = False
        if not self.ready.done():
            self.ready.set_exception(SetupFailed(kind))
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    # -- the mix ---------------------------------------------------------------------

    def send_next(self, window: Window) -> None:
        """Send this charger's next CALL of the mix, accounted to ``window``."""
        if self._forced:
            self._send(self._forced.popleft(), window)
            return
        draw = self.gen.random.random()
        mv, hb, st = self.gen.thresholds
        if draw < mv:
            self._send("MeterValues", window)
        elif draw < hb:
            self._send("Heartbeat", window)
        elif draw < st:
            self._send("StatusNotification", window)
        else:
            self._forced.extend(("Authorize", "StartTransaction"))
            self._send("StopTransaction", window)

    def _send(self, action: str, window: Window) -> None:
        request = self._request(action, datetime.now(UTC))
        if request is None:  # no open transaction to meter or stop: start one instead
            action = "StartTransaction"
            request = self._request(action, datetime.now(UTC))
            assert request is not None
        self._seq += 1
        unique_id = f"{self._seq:x}"
        frame = self.gen.protocol.call_frame(unique_id, action, request)
        self.ws.send_text(frame)
        self._flush()
        window.sent[action] += 1
        window.outstanding += 1
        self.pending_id = unique_id
        self._pending_action = action
        self._pending_window = window
        self.pending_sent = time.perf_counter()

    def _request(self, action: str, now: datetime) -> msgspec.Struct | None:
        if action == "MeterValues":
            connector = self._open_connector()
            if connector is None:
                return None
            return self._meter_values(connector, now)
        if action == "Heartbeat":
            return m.HeartbeatRequest()
        if action == "StatusNotification":
            self._flip = not self._flip
            connector = self._next_connector = (self._next_connector + 1) % self.gen.connectors
            charging = self._transactions[connector] is not None
            status: m.ChargePointStatus = (
                ("SuspendedEV" if self._flip else "Charging") if charging else "Available"
            )
            return m.StatusNotificationRequest(
                connector_id=connector + 1, error_code="NoError", status=status, timestamp=now
            )
        if action == "StopTransaction":
            connector = self._open_connector()
            if connector is None:
                return None
            transaction_id = self._transactions[connector]
            assert transaction_id is not None
            self._transactions[connector] = None
            self._cycle_connector = connector
            return m.StopTransactionRequest(
                meter_stop=self._meter_wh[connector],
                timestamp=now,
                transaction_id=transaction_id,
                id_tag=self.gen.id_tag_for(self.number, connector + 1),
                reason="Local",
            )
        if action == "Authorize":
            return m.AuthorizeRequest(
                id_tag=self.gen.id_tag_for(self.number, self._cycle_connector + 1)
            )
        if action == "StartTransaction":
            connector = self._cycle_connector
            return m.StartTransactionRequest(
                connector_id=connector + 1,
                id_tag=self.gen.id_tag_for(self.number, connector + 1),
                meter_start=self._meter_wh[connector],
                timestamp=now,
            )
        if action == "BootNotification":
            return m.BootNotificationRequest(
                charge_point_vendor="chargegrid",
                charge_point_model="load-sim",
                charge_point_serial_number=self.charger_id[-25:],
                firmware_version="1.0",
            )
        raise ValueError(f"the load generator does not send {action}")

    def _open_connector(self) -> int | None:
        """The next connector (round robin) with an open transaction."""
        count = self.gen.connectors
        for step in range(1, count + 1):
            connector = (self._next_connector + step) % count
            if self._transactions[connector] is not None:
                self._next_connector = connector
                return connector
        return None

    def _meter_values(self, connector: int, now: datetime) -> m.MeterValuesRequest:
        self._meter_wh[connector] += 37
        transaction_id = self._transactions[connector]
        return m.MeterValuesRequest(
            connector_id=connector + 1,
            transaction_id=transaction_id,
            meter_value=[
                m.MeterValue(
                    timestamp=now,
                    sampled_value=[
                        m.SampledValue(
                            value=str(self._meter_wh[connector]),
                            measurand="Energy.Active.Import.Register",
                            unit="Wh",
                        ),
                        m.SampledValue(value="7200", measurand="Power.Active.Import", unit="W"),
                        m.SampledValue(
                            value="16.0", measurand="Current.Import", phase="L1", unit="A"
                        ),
                        m.SampledValue(value="230.1", measurand="Voltage", phase="L1-N", unit="V"),
                    ],
                )
            ],
        )
