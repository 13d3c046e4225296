"""agent/pollers/synthetic: the load generator for capacity tests and benchmarks."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from agent import config as agent_config
from agent import pollers
from agent.config import SyntheticPoller as SyntheticConfig
from agent.pollers.synthetic import METRIC, SyntheticPoller, label_sets

NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # README "Metric names"

CONFIG = """\
agent: {{id: bench-agent, customer: acme, site: lab}}
collector: {{address: "127.0.0.1:4317", insecure: true}}
state_dir: state
pollers:
  host: {{enabled: false}}
  synthetic: {{enabled: true, interval: 250ms, timeout: 2s, series: {series}, device_id: load-gen}}
"""


def _poller(series: int = 5, **overrides: object) -> SyntheticPoller:
    return SyntheticPoller(SyntheticConfig(enabled=True, series=series, **overrides))  # type: ignore[arg-type]


def test_a_poll_has_exactly_series_samples_of_one_metric() -> None:
    poll = _poller(series=5000).collect(1_790_000_000_123)
    assert len(poll.samples) == 5000
    assert {name for name, _, _ in poll.samples} == {METRIC}
    assert NAME.match(METRIC) and METRIC.startswith("synthetic_")
    assert poll.device == "synthetic"
    assert poll.ts_ms == 1_790_000_000_123


def test_labels_are_sorted_distinct_and_in_index_order() -> None:
    poll = _poller(series=1200).collect(1_790_000_000_000)
    label_sets_seen = [labels for _, labels, _ in poll.samples]
    assert label_sets_seen[0] == (("n", "0000"),)
    assert label_sets_seen[-1] == (("n", "1199"),)
    assert len(set(label_sets_seen)) == 1200
    for labels in label_sets_seen:
        assert list(labels) == sorted(labels)  # the order is part of a series' identity
    assert [labels[0][1] for labels in label_sets_seen] == sorted(labels[0][1] for labels in label_sets_seen)


def test_label_width_grows_past_four_digits_and_keeps_text_order() -> None:
    sets = label_sets(12_000)
    assert sets[0] == (("n", "00000"),) and sets[-1] == (("n", "11999"),)
    assert sets == sorted(sets)


def test_label_tuples_are_built_once_and_shared_by_every_poll() -> None:
    poller = _poller(series=100)
    first, second = poller.collect(1_000_000), poller.collect(2_000_000)
    assert all(a[1] is b[1] for a, b in zip(first.samples, second.samples))


def test_each_poll_gets_its_own_sample_list() -> None:
    """The scheduler appends vigil_poll_up to a poll's list: that must not leak into the next poll."""
    poller = _poller(series=3)
    first = poller.collect(1_790_000_000_000)
    first.samples.append(("vigil_poll_up", (("poller", "synthetic"),), 1.0))
    assert len(poller.collect(1_790_000_001_000).samples) == 3


def test_values_depend_on_index_and_time_and_are_finite() -> None:
    poller = _poller(series=4)
    at_0s = [value for _, _, value in poller.collect(1_790_000_040_000).samples]
    at_1s = [value for _, _, value in poller.collect(1_790_000_041_000).samples]
    assert len(set(at_0s)) == 4
    assert [b - a for a, b in zip(at_0s, at_1s)] == [1.0] * 4
    assert all(0.0 <= v < 64.0 for v in at_0s + at_1s)


def test_poll_is_stamped_now() -> None:
    before = int(time.time() * 1000)
    poll = asyncio.run(_poller(series=2, device_id="load-gen").poll())
    after = int(time.time() * 1000)
    assert before <= poll.ts_ms <= after
    assert poll.device == "load-gen" and len(poll.samples) == 2


def test_poll_of_many_series_is_cheap() -> None:
    poller = _poller(series=5000)
    started = time.perf_counter()
    for i in range(20):
        poller.collect(1_790_000_000_000 + i * 1000)
    per_poll_ms = (time.perf_counter() - started) / 20 * 1000
    assert per_poll_ms < 20, f"{per_poll_ms:.1f} ms per 5,000-series poll"  # ~0.5 ms here; generous for slow CI


def test_built_from_yaml_config_through_the_registry(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG.format(series=250))
    config = agent_config.load(path)
    assert pollers.enabled_kinds(config) == ["synthetic"]
    (poller,) = pollers.build(config)
    assert isinstance(poller, SyntheticPoller)
    assert (poller.kind, poller.device_id, poller.interval_s, poller.timeout_s) == ("synthetic", "load-gen", 0.25, 2.0)
    poll = asyncio.run(poller.poll())
    assert len(poll.samples) == 250 and poll.device == "load-gen"


def test_off_by_default(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(CONFIG.format(series=10).replace("synthetic: {enabled: true, ", "synthetic: {"))
    config = agent_config.load(path)
    assert config.pollers.synthetic.enabled is False
    assert pollers.build(config) == []
