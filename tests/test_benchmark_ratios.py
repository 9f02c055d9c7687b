"""The benchmark's ratios (issue 34): Tocsin is charged its three processes' CPU,
never the sandboxes', and the plain sender its own."""

import pytest

from benchmarks.national_activation import ratios


def test_ratios_compare_tocsins_processes_with_the_plain_sender_for_the_same_messages() -> None:
    real = {
        "handover_cpu_worker_s": 6.0,
        "handover_cpu_server_s": 3.0,
        "handover_cpu_gateway_s": 3.0,
        "handover_cpu_benchmark_s": 50.0,
        "handed_over_s": 26.0,
        "worker_peak_mib": 300.0,
        "gateway_peak_mib": 150.0,
    }
    plain = {"sms": 600, "emails": 400, "cpu_s": 2.0, "wall_s": 20.0, "cpu_benchmark_s": 9.0}

    measured = ratios(real, plain)

    assert measured["messages"] == 1000
    assert measured["tocsin_cpu_ms_per_message"] == pytest.approx(12.0)
    assert measured["plain_cpu_ms_per_message"] == pytest.approx(2.0)
    assert measured["cpu_ratio"] == pytest.approx(6.0)
    assert measured["wall_ratio"] == pytest.approx(1.3)
    assert measured["worker_gateway_peak_mib"] == pytest.approx(450.0)
