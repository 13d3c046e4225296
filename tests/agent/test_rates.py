"""agent/rates.py: counters to per-second rates, without spikes on wraps or resets."""

from __future__ import annotations

import pytest

from agent.rates import CounterRates


def test_first_reading_gives_no_rate() -> None:
    rates = CounterRates()
    assert rates.rate("eth0", 1_000, 10.0) is None
    assert len(rates) == 1


def test_steady_increase_gives_delta_per_second() -> None:
    rates = CounterRates()
    rates.rate("eth0", 1_000, 10.0)
    assert rates.rate("eth0", 1_600, 12.0) == pytest.approx(300.0)
    assert rates.rate("eth0", 1_600, 13.0) == 0.0
    assert rates.rate("eth0", 1_650, 13.5) == pytest.approx(100.0)


def test_keys_are_independent() -> None:
    rates = CounterRates()
    rates.rate(("dev", "in"), 0, 0.0)
    rates.rate(("dev", "out"), 1_000_000, 0.0)
    assert rates.rate(("dev", "in"), 10, 1.0) == pytest.approx(10.0)
    assert rates.rate(("dev", "out"), 1_000_020, 1.0) == pytest.approx(20.0)


def test_32_bit_wrap_gives_the_wrapped_delta() -> None:
    rates = CounterRates()
    rates.rate("ifInOctets", 2**32 - 100, 0.0, width_bits=32)
    assert rates.rate("ifInOctets", 50, 10.0, width_bits=32) == pytest.approx(15.0)


def test_64_bit_wrap_gives_the_wrapped_delta() -> None:
    rates = CounterRates()
    rates.rate("ifHCInOctets", 2**64 - 10, 0.0)
    assert rates.rate("ifHCInOctets", 20, 2.0) == pytest.approx(15.0)


def test_reset_of_a_64_bit_counter_gives_none_then_rates_resume() -> None:
    rates = CounterRates()
    rates.rate("bytes", 10**12, 0.0)
    rates.rate("bytes", 10**12 + 1_000, 1.0)
    assert rates.rate("bytes", 5, 2.0) is None  # rebooted: not a negative rate, not a 2**64 spike
    assert rates.rate("bytes", 105, 3.0) == pytest.approx(100.0)


def test_reset_of_a_32_bit_counter_gives_none() -> None:
    rates = CounterRates()
    rates.rate("c32", 1_000_000, 0.0, width_bits=32)
    # The wrapped delta would be ~4.29e9, more than half the range: a reset.
    assert rates.rate("c32", 5, 1.0, width_bits=32) is None


def test_reading_beyond_the_declared_width_that_goes_down_is_a_reset() -> None:
    rates = CounterRates()
    rates.rate("c", 2**32 + 5, 0.0, width_bits=32)
    assert rates.rate("c", 3, 1.0, width_bits=32) is None


def test_decrease_of_a_counter_of_unknown_width_gives_none() -> None:
    rates = CounterRates()
    rates.rate("c", 100, 0.0, width_bits=None)
    assert rates.rate("c", 99, 1.0, width_bits=None) is None
    assert rates.rate("c", 109, 2.0, width_bits=None) == pytest.approx(10.0)


@pytest.mark.parametrize("later_s", [10.0, 9.0])
def test_zero_or_negative_elapsed_time_gives_none(later_s: float) -> None:
    rates = CounterRates()
    rates.rate("c", 100, 10.0)
    assert rates.rate("c", 200, later_s) is None


def test_forget_prefix_drops_only_that_devices_keys() -> None:
    rates = CounterRates()
    for key in (("sw1", "in", 1), ("sw1", "out", 1), ("sw2", "in", 1), "sw1"):
        rates.rate(key, 100, 0.0)
    rates.forget("sw1")
    assert len(rates) == 2
    assert rates.rate(("sw1", "in", 1), 200, 1.0) is None  # forgotten: first reading again
    assert rates.rate(("sw2", "in", 1), 200, 1.0) == pytest.approx(100.0)
    assert rates.rate("sw1", 200, 1.0) == pytest.approx(100.0)  # not a tuple key: not the device's


def test_forget_without_prefix_drops_everything() -> None:
    rates = CounterRates()
    rates.rate(("a", 1), 1, 0.0)
    rates.rate(("b", 1), 1, 0.0)
    rates.forget()
    assert len(rates) == 0
    assert rates.rate(("a", 1), 5, 1.0) is None
