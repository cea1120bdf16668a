"""The platform's metrics: a CALL counted by action and result, with its reply time."""

from __future__ import annotations

from chargegrid import metrics
from chargegrid.metrics import Metrics


def _sample(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_calls_are_counted_by_action_and_result_with_their_reply_times() -> None:
    m = Metrics()
    m.observe_call("Heartbeat", "ok", 0.002)
    m.observe_call("Heartbeat", "ok", 0.02)
    m.observe_call("Heartbeat", "FormationViolation", 0.001)
    m.observe_call("MeterValues", "ok", 0.004)

    assert _sample(m, "chargegrid_ocpp_calls_total", action="Heartbeat", result="ok") == 2
    assert (
        _sample(m, "chargegrid_ocpp_calls_total", action="Heartbeat", result="FormationViolation")
        == 1
    )
    assert _sample(m, "chargegrid_ocpp_calls_total", action="MeterValues", result="ok") == 1
    assert _sample(m, "chargegrid_ocpp_reply_seconds_count", action="Heartbeat") == 3
    assert _sample(m, "chargegrid_ocpp_reply_seconds_sum", action="Heartbeat") == 0.023
    assert _sample(m, "chargegrid_ocpp_reply_seconds_bucket", action="Heartbeat", le="0.005") == 2
    rendered = m.render().decode()
    assert 'chargegrid_ocpp_calls_total{action="MeterValues",result="ok"} 1.0' in rendered


def test_series_beyond_the_kept_ones_are_still_counted() -> None:
    m = Metrics()
    for i in range(metrics.MAX_KEPT_CALL_SERIES + 5):
        m.observe_call(f"Action{i}", "NotImplemented", 0.001)
    m.observe_call(f"Action{metrics.MAX_KEPT_CALL_SERIES + 4}", "NotImplemented", 0.001)

    last = metrics.MAX_KEPT_CALL_SERIES + 4
    assert (
        _sample(m, "chargegrid_ocpp_calls_total", action=f"Action{last}", result="NotImplemented")
        == 2
    )
    assert _sample(m, "chargegrid_ocpp_calls_total", action="Action0", result="NotImplemented") == 1
