"""Emergency controls against the real hub: the kill switch and pauses stop guarded actions
(AgentPausedError); failsafe pauses and failsafe mode skip them and record why."""

from __future__ import annotations

from typing import Any, List

import pytest

from agentops_hub import ActionSkipped, AgentOps, AgentPausedError
from conftest import Hub


def client(hub: Hub, agent: str, **extra: Any) -> AgentOps:
    return AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent, flush_interval=0.1, **extra)


def test_the_kill_switch_raises_agent_paused_and_the_sdk_learns_it(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name)
    ran: List[bool] = []
    status, _ = hub.api("POST", "/v1/controls/kill-switch", {"engaged": True, "reason": "drill"})
    assert status == 200
    try:
        with pytest.raises(AgentPausedError) as info, ops.run("x"):
            ops.guard({"type": "send_email"}, lambda: ran.append(True))
        assert (info.value.hold.reason, info.value.hold.mode) == ("kill_switch", "block")
        assert "drill" in str(info.value)
        with pytest.raises(AgentPausedError), ops.guard({"type": "send_email"}):
            ran.append(True)
        assert ran == []
        hold = ops.control_hold()
        assert hold is not None
        assert hold.reason == "kill_switch"

        fresh = client(hub, agent_name + "Fresh")
        assert fresh.control_hold() is None
        state = fresh.refresh_controls()
        assert state is not None
        assert state["kill_switch"]["engaged"] is True
        hold = fresh.control_hold()
        assert hold is not None
        assert "drill" in hold.message
        fresh.shutdown()
    finally:
        hub.api("POST", "/v1/controls/kill-switch", {"engaged": False})
    assert ops.check_policy({"type": "send_email"}).decision == "ALLOW"
    assert ops.control_hold() is None
    ops.shutdown()


def test_pauses_block_or_skip_and_failsafe_records_the_skip(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name)
    first = ops.record_run_start("paused-work")
    assert ops.flush(timeout=10)
    status, agent = hub.api("GET", f"/v1/agents/{agent_name}")
    assert status == 200, agent

    # A blocking pause: guard raises, the action does not run.
    status, _ = hub.api("POST", f"/v1/agents/{agent['id']}/pause", {"reason": "audit", "mode": "block"})
    assert status == 200
    ran: List[bool] = []
    with pytest.raises(AgentPausedError) as info:
        ops.guard({"type": "send_email"}, lambda: ran.append(True), run_id=first.id)
    assert info.value.hold.reason == "agent_paused"
    # failsafe=True on the client: the same pause skips instead of raising.
    lenient = client(hub, agent_name, failsafe=True)
    assert lenient.guard({"type": "send_email"}, lambda: ran.append(True), run_id=first.id) is None
    lenient.shutdown()
    hub.api("POST", f"/v1/agents/{agent['id']}/resume", {})

    # A failsafe pause: every form skips; the `with` form says so with ActionSkipped.
    status, _ = hub.api("POST", f"/v1/agents/{agent['id']}/pause", {"reason": "audit", "mode": "failsafe"})
    assert status == 200
    assert ops.guard({"type": "send_email", "to": "x@y.test"}, lambda: ran.append(True), run_id=first.id) is None

    @ops.guard({"type": "send_email"}, run_id=first.id)
    def send() -> str:
        ran.append(True)
        return "sent"

    assert send() is None
    with pytest.raises(ActionSkipped), ops.guard({"type": "send_email"}, run_id=first.id):
        ran.append(True)
    assert ran == []
    hold = ops.control_hold()
    assert hold is not None
    assert (hold.reason, hold.mode) == ("agent_paused", "failsafe")
    state = ops.refresh_controls()
    assert state is not None
    assert any(p["name"] == agent_name for p in state["paused_agents"])
    hub.api("POST", f"/v1/agents/{agent['id']}/resume", {})

    ops.record_run_end(first.id)
    ops.flush(timeout=10)
    d = hub.wait_run(first.id)
    logs = [e["payload"] for e in d["events"] if e["type"] == "log"]
    assert len(logs) == 4  # lenient skip + three failsafe skips
    assert all(p["log_only"] is True and p["action"]["type"] == "send_email" for p in logs)
    assert not any(e["type"] == "external_action" for e in d["events"])
    ops.shutdown()
