"""Runs and events against the real hub: run() as a context manager and a decorator, the timeline,
buffering and batching, the never-raise rule, the bounded buffer, configuration from the environment."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import pytest

from agentops_hub import AgentOps
from conftest import Hub, eventually, free_port


def client(hub: Hub, agent: str, **extra: Any) -> AgentOps:
    return AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent, flush_interval=0.1, **extra)


def test_run_records_start_calls_guarded_action_and_decision_on_one_timeline(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name)
    with ops.run("triage", input={"ticket": "T-1"}, external_ref="T-1") as run:
        ops.record_tool_call("lookup_order", args={"order_id": "A-1"}, result={"total": 40}, duration_ms=3)
        ops.record_llm_call("gpt-4o-mini", provider="openai", input_tokens=1000, output_tokens=100)
        # Inside the run, a plain check_policy carries the run id without being told.
        assert ops.check_policy({"type": "read_faq"}).decision == "ALLOW"
        run.output = ops.guard({"type": "send_reply", "words": 12}, lambda: "sent")
    assert run.output == "sent"
    assert ops.flush(timeout=10)
    d = hub.wait_run(run.id)
    assert d["agent_name"] == agent_name
    assert d["input"] == {"ticket": "T-1"}
    assert d["output"] == "sent"
    assert d["external_ref"] == "T-1"
    assert d["metadata"]["name"] == "triage"
    types = [e["type"] for e in d["events"]]
    for t in ("run_started", "tool_called", "tool_result", "llm_call", "external_action", "run_completed"):
        assert t in types
    action = next(e for e in d["events"] if e["type"] == "external_action")
    assert action["payload"]["action"] == {"type": "send_reply", "words": 12}
    assert action["payload"]["status"] == "done"
    assert action["payload"]["decision_id"].startswith("dec_")
    assert len(d["decisions"]) == 2
    assert d["input_tokens"] == 1000
    s = ops.stats()
    assert (s.queued, s.dropped, s.rejected) == (0, 0, 0)
    ops.shutdown()


def test_decorated_function_is_a_run_and_a_failure_is_recorded_then_raised(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name)
    seen: dict[str, str] = {}

    @ops.run("summarize")
    def summarize(text: str) -> str:
        run = ops.current_run()
        assert run is not None
        seen["ok"] = run.id
        return text.upper()

    @ops.run()
    def explode() -> None:
        run = ops.current_run()
        assert run is not None
        seen["failed"] = run.id
        raise TypeError("boom")

    assert summarize("hi") == "HI"
    with pytest.raises(TypeError, match="boom"):
        explode()
    assert ops.current_run() is None
    ops.flush(timeout=10)
    ok = hub.wait_run(seen["ok"])
    assert ok["output"] == "HI"
    failed = hub.wait_run(seen["failed"], "failed")
    assert failed["error"] == {"name": "TypeError", "message": "boom"}
    assert failed["metadata"]["name"].endswith("explode")
    assert "run_failed" in [e["type"] for e in failed["events"]]
    ops.shutdown()


def test_events_wait_in_the_buffer_until_a_batch_is_full_or_the_interval_passes(hub: Hub, agent_name: str) -> None:
    ops = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, batch_size=50, flush_interval=30)
    run = ops.record_run_start("batching")
    assert ops.flush(timeout=10)
    time.sleep(0.3)  # the start's own wake-up of the sender has passed
    sent_after_start = ops.stats().sent
    for i in range(49):
        run.record_tool_call("t", args={"i": i})
    time.sleep(0.5)
    assert ops.stats().queued == 49  # below a batch, before the interval: nothing sent
    assert ops.stats().sent == sent_after_start
    run.record_tool_call("t", args={"i": 49})  # the 50th event fills the batch: sent without flush()
    eventually(lambda: ops.stats().queued == 0, timeout=10)
    d = hub.run_detail(run.id)
    assert d is not None
    assert [e["payload"]["args"]["i"] for e in d["events"] if e["type"] == "tool_called"] == list(range(50))
    ops.shutdown()

    timed = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, batch_size=1000, flush_interval=0.2)
    r2 = timed.record_run_start("interval")
    r2.record("log", {"message": "one"})
    eventually(lambda: timed.stats().sent >= 2 and timed.stats().queued == 0, timeout=10)
    timed.shutdown()


def test_large_buffers_go_in_requests_of_at_most_1000_events(hub: Hub, agent_name: str) -> None:
    ops = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=60, max_queue_size=5000)
    run = ops.record_run_start("bulk")
    for i in range(2500):
        run.record_tool_call("t", args={"i": i})
    assert ops.flush(timeout=30)
    s = ops.stats()
    assert s.sent == 2501 + 1  # events + the run report
    assert (s.dropped, s.rejected) == (0, 0)
    d = hub.run_detail(run.id)
    assert d is not None
    calls = [e for e in d["events"] if e["type"] == "tool_called"]
    # Events of one millisecond have no order of their own on the timeline (PostgreSQL orders them by id).
    assert sorted(e["payload"]["args"]["i"] for e in calls) == list(range(2500))
    assert len({e["id"] for e in d["events"]}) == len(d["events"])
    ops.shutdown()


def test_telemetry_never_raises(hub: Hub, agent_name: str, caplog: pytest.LogCaptureFixture) -> None:
    ops = client(hub, agent_name)
    run = ops.record_run_start()
    loop: dict[str, Any] = {"name": "loop", "nan": math.nan, "when": time, "big": 10**30}
    loop["self"] = loop
    run.record_tool_call("cyclic", args=loop)
    with caplog.at_level(logging.WARNING, logger="agentops_hub"):
        ops.record_tool_call("orphan")  # outside a run: ignored, with a warning under the package's logger
    assert any("outside a run" in r.getMessage() and r.name == "agentops_hub" for r in caplog.records)
    ops.record("not_a_type", {}, run_id=run.id)  # type: ignore[arg-type]
    assert ops.flush(timeout=10)
    d = hub.run_detail(run.id)
    assert d is not None
    call = next(e for e in d["events"] if e["type"] == "tool_called")
    args = call["payload"]["args"]
    assert args["self"] == "[circular]"
    assert args["nan"] is None
    assert args["name"] == "loop"
    assert "module 'time'" in args["when"]
    assert ops.stats().rejected == 1
    ops.shutdown()


def test_the_buffer_is_bounded_when_the_hub_is_away() -> None:
    ops = AgentOps(
        hub_url=f"http://127.0.0.1:{free_port()}",
        api_key="ahk_x",
        agent="Offline",
        max_queue_size=100,
        max_retries=1,
        flush_interval=60,
    )
    run = ops.record_run_start()
    for i in range(150):
        run.record_tool_call("t", args={"i": i})
    s = ops.stats()
    assert s.dropped == 51  # run_started and 150 tool calls: 151 events for 100 places
    assert s.queued >= 100  # the events (and the run report, unless a send has it in hand)
    assert ops.flush(timeout=2) is False
    assert ops.stats().failed_attempts >= 1
    ops.shutdown(timeout=0.5)


def test_configuration_from_the_environment(hub: Hub, agent_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTOPS_HUB_URL", hub.url)
    monkeypatch.setenv("AGENTOPS_API_KEY", hub.ingest_key)
    monkeypatch.setenv("AGENTOPS_AGENT", agent_name)
    ops = AgentOps()
    assert (ops.hub_url, ops.agent) == (hub.url, agent_name)
    d = ops.check_policy({"type": "ping"})
    assert d.decision == "ALLOW"
    assert not d.unavailable
    ops.shutdown()


def test_disabled_client_sends_nothing_and_allows() -> None:
    ops = AgentOps(hub_url=f"http://127.0.0.1:{free_port()}", agent="Off", disabled=True)
    with ops.run("x") as run:
        run.record_tool_call("t")
        assert ops.guard({"type": "send_email"}, lambda: "sent") == "sent"
    assert ops.stats().queued == 0
    assert ops.flush() is True
