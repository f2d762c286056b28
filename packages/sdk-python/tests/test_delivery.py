"""Delivery when the hub goes away: events recorded while it is down stay buffered, and once it is back on
the same port and data, a flush delivers every one of them exactly once. The hub here is the session's own,
stopped and started again."""

from __future__ import annotations

from agentops_hub import AgentOps
from conftest import Hub, eventually


def test_events_recorded_while_the_hub_restarts_arrive_exactly_once(hub: Hub, agent_name: str) -> None:
    ops = AgentOps(
        hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, batch_size=100, flush_interval=0.2, max_retries=2
    )
    run = ops.record_run_start("through-a-restart")
    for i in range(50):
        run.record_tool_call("before", args={"i": i})
    assert ops.flush(timeout=10)

    hub.stop()
    try:
        for i in range(300):  # three full batches: the background thread tries to send them and fails
            run.record_tool_call("during", args={"i": i})
        eventually(lambda: ops.stats().failed_attempts >= 1, timeout=20)
        assert ops.flush(timeout=3) is False
        assert ops.stats().queued >= 300
    finally:
        hub.start()

    for i in range(20):
        run.record_tool_call("after", args={"i": i})
    run.end(output={"ok": True})
    assert ops.flush(timeout=30)
    s = ops.stats()
    assert (s.queued, s.dropped, s.rejected) == (0, 0, 0)

    d = hub.wait_run(run.id)
    calls = [e["payload"] for e in d["events"] if e["type"] == "tool_called"]
    # Sorted: events of one millisecond have no order of their own on the timeline.
    by_tool = {t: sorted(c["args"]["i"] for c in calls if c["tool"] == t) for t in ("before", "during", "after")}
    assert by_tool == {"before": list(range(50)), "during": list(range(300)), "after": list(range(20))}
    assert len({e["id"] for e in d["events"]}) == len(d["events"]) == 1 + 370 + 1
    assert d["output"] == {"ok": True}
    ops.shutdown()
