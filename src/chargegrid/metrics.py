"""Prometheus metrics of one running platform (own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

MAX_KEPT_CALL_SERIES = 1_000  # (action, result) pairs whose series are kept at hand


class Metrics:
    """The platform's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connected_chargers = Gauge(
            "chargegrid_connected_chargers",
            "Chargers with an open OCPP connection, by OCPP version.",
            ["version"],
            registry=self.registry,
        )
        self.calls = Counter(
            "chargegrid_ocpp_calls",
            "OCPP CALLs received from chargers, by action and result "
            "(ok, replayed or the CALLERROR code).",
            ["action", "result"],
            registry=self.registry,
        )
        self.reply_latency = Histogram(
            "chargegrid_ocpp_reply_seconds",
            "Time from receiving a charger's CALL to sending the reply.",
            ["action"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.commit_group_size = Histogram(
            "chargegrid_ocpp_commit_group_size",
            "CALLs committed together in one database transaction (group commit).",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.refused_connections = Counter(
            "chargegrid_refused_connections",
            "Charger connections refused at the handshake, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.replaced_connections = Counter(
            "chargegrid_replaced_connections",
            "Charger connections closed because the same charger connected again.",
            registry=self.registry,
        )

        self.keepalive_pings = Counter(
            "chargegrid_keepalive_pings",
            "WebSocket pings sent to chargers that were quiet for the ping interval.",
            registry=self.registry,
        )
        self.keepalive_timeouts = Counter(
            "chargegrid_keepalive_timeouts",
            "Charger connections closed because a ping was not answered in time.",
            registry=self.registry,
        )

        self._call_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def observe_call(self, action: str, result: str, seconds: float) -> None:
        """Count a CALL by action and result, and the time to its reply. The labelled
        series are found once per pair (a charger may send any action name, so only the
        first ``MAX_KEPT_CALL_SERIES`` pairs are kept)."""
        series = self._call_series.get((action, result))
        if series is None:
            series = (
                self.calls.labels(action=action, result=result),
                self.reply_latency.labels(action=action),
            )
            if len(self._call_series) < MAX_KEPT_CALL_SERIES:
                self._call_series[action, result] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        """The metrics in Prometheus text exposition format."""
        return generate_latest(self.registry)
