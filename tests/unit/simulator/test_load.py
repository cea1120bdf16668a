"""The load generator's bookkeeping: latency percentiles and the message mix."""

from __future__ import annotations

import random

import pytest

from chargegrid.simulator.load import LatencyHistogram, MessageMix, Window


def test_percentiles_are_within_one_percent() -> None:
    histogram = LatencyHistogram()
    samples = [i / 1e4 for i in range(1, 10_001)]  # 100 µs .. 1 s, evenly
    random.Random(3).shuffle(samples)
    for sample in samples:
        histogram.record(sample)
    assert histogram.count == 10_000
    assert histogram.max_s == 1.0
    assert histogram.percentile(0.5) == pytest.approx(0.5, rel=0.011)
    assert histogram.percentile(0.99) == pytest.approx(0.99, rel=0.011)
    assert histogram.percentile(0.999) == pytest.approx(0.999, rel=0.011)
    assert histogram.percentile(1.0) == 1.0


def test_percentiles_never_exceed_the_maximum_and_handle_tiny_values() -> None:
    histogram = LatencyHistogram()
    assert histogram.percentile(0.99) == 0.0
    histogram.record(0.0)
    histogram.record(2e-7)
    histogram.record(0.0123)
    assert histogram.percentile(0.5) <= 2e-6
    assert histogram.percentile(0.99) == 0.0123


def test_a_window_keeps_latencies_by_the_second_their_answers_came_in() -> None:
    window = Window(started=100.0)
    window.record("Heartbeat", 0.010, 100.2)
    window.record("MeterValues", 0.300, 102.5)  # nothing came in during second 1
    window.record("MeterValues", 0.020, 102.9)
    window.record("Heartbeat", 0.001, 99.9)  # sent before the window: its first second
    assert [h.count for h in window.latency_by_second] == [2, 0, 2]
    assert [h.max_s for h in window.latency_by_second] == [0.010, 0.0, 0.300]
    assert window.latency.count == 4
    assert window.latency_by_action["MeterValues"].count == 2


def test_a_transaction_cycle_counts_three_calls_against_its_share() -> None:
    mv, hb, st = MessageMix().thresholds()
    q = 1 - st  # the probability that a draw starts a cycle of three CALLs
    calls = 1 + 2 * q
    assert mv / calls == pytest.approx(0.70)
    assert (hb - mv) / calls == pytest.approx(0.10)
    assert (st - hb) / calls == pytest.approx(0.10)
    assert 3 * q / calls == pytest.approx(0.10)
