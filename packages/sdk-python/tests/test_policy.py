"""Policies and approvals against the real hub: blocks that name the policy, a person approving by long-poll
(the agent's own key may not), rejections, timeouts, the three forms of guard, failing closed."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

import pytest

from agentops_hub import AgentOps, ApiError, PolicyBlockedError, PolicyDecision
from conftest import Hub, eventually, free_port


def client(hub: Hub, agent: str, **extra: Any) -> AgentOps:
    return AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent, flush_interval=0.1, **extra)


def pending_approval(hub: Hub, action_type: str) -> Dict[str, Any]:
    def find() -> Optional[Dict[str, Any]]:
        _, body = hub.api("GET", "/v1/approvals?status=pending")
        return next((a for a in body["data"] if a["action"].get("type") == action_type), None)

    return eventually(find)


def in_thread(fn: Any) -> Dict[str, Any]:
    """Runs ``fn`` on a thread (the agent waiting); the returned dict gets ``result`` or ``error``."""
    out: Dict[str, Any] = {}

    def target() -> None:
        try:
            out["result"] = fn()
        except BaseException as e:
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    out["thread"] = t
    return out


def test_guard_runs_nothing_when_a_policy_blocks_and_names_the_policy(hub: Hub, agent_name: str) -> None:
    name = f"No deletes for {agent_name}"
    hub.policy(
        name,
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.type", "op": "eq", "value": "delete_account"},
            ]
        },
        "block",
    )
    ops = client(hub, agent_name)
    ran: List[bool] = []
    with pytest.raises(PolicyBlockedError) as info, ops.run("cleanup"):
        ops.guard({"type": "delete_account", "id": "u1"}, lambda: ran.append(True))
    assert name in str(info.value)
    assert info.value.policies == (name,)
    assert info.value.decision.decision == "BLOCK"
    assert ran == []
    # The context-manager and decorator forms refuse the same way.
    with pytest.raises(PolicyBlockedError), ops.guard({"type": "delete_account"}):
        ran.append(True)

    @ops.guard({"type": "delete_account"})
    def delete() -> str:
        ran.append(True)
        return "deleted"

    with pytest.raises(PolicyBlockedError):
        delete()
    assert ran == []
    ops.shutdown()


def test_guard_waits_for_a_person_to_approve_then_runs_once(hub: Hub, agent_name: str) -> None:
    hub.policy(
        f"Refunds over 100 for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.amount", "op": "gt", "value": 100},
            ]
        },
        "require_approval",
    )
    ops = client(hub, agent_name)
    asked: List[PolicyDecision] = []
    ids: Dict[str, str] = {}

    def agent() -> Any:
        with ops.run("refund") as run:
            ids["run"] = run.id
            return run.guard(
                {"type": "issue_refund", "amount": 250}, lambda: "refunded", on_approval_required=asked.append
            )

    waiting = in_thread(agent)
    approval = pending_approval(hub, "issue_refund")
    assert approval["run_id"] == ids["run"]
    time.sleep(0.3)
    assert "result" not in waiting  # the agent is waiting for a person
    assert [d.approval_id for d in asked] == [approval["id"]]

    # The key that asked (the agent's `ingest` key) may not decide its own request.
    status, body = hub.api("POST", f"/v1/approvals/{approval['id']}/approve", {}, key=hub.ingest_key)
    assert status == 403, body
    assert body["code"] == "forbidden"
    # A person does: the owner, signed in (session cookie and the console's origin).
    status, body = hub.api("POST", f"/v1/approvals/{approval['id']}/approve", {"comment": "ok"}, session=True)
    assert status == 200, body

    waiting["thread"].join(20)
    assert waiting.get("result") == "refunded", waiting.get("error")
    ops.flush(timeout=10)
    d = hub.wait_run(ids["run"])
    assert approval["id"] in [a["id"] for a in d["approvals"]]
    assert len(d["decisions"]) >= 2
    action = next(e for e in d["events"] if e["type"] == "external_action")
    assert action["payload"]["approval_id"] == approval["id"]
    assert action["payload"]["status"] == "done"
    ops.shutdown()


def test_a_rejected_approval_refuses_the_action(hub: Hub, agent_name: str) -> None:
    hub.policy(f"Ask for {agent_name}", {"field": "agent.name", "op": "eq", "value": agent_name}, "require_approval")
    ops = client(hub, agent_name)
    ran: List[bool] = []

    def agent() -> None:
        with ops.run("wire"), ops.guard({"type": "wire_money", "amount": 5}):
            ran.append(True)

    waiting = in_thread(agent)
    approval = pending_approval(hub, "wire_money")
    status, _ = hub.api("POST", f"/v1/approvals/{approval['id']}/reject", {"comment": "no"}, session=True)
    assert status == 200
    waiting["thread"].join(20)
    err = waiting.get("error")
    assert isinstance(err, PolicyBlockedError)
    assert "rejected" in str(err)
    assert ran == []
    ops.shutdown()


def test_wait_for_approval_times_out_pending_and_unknown_ids_are_api_errors(hub: Hub, agent_name: str) -> None:
    hub.policy(f"Always ask {agent_name}", {"field": "agent.name", "op": "eq", "value": agent_name}, "require_approval")
    ops = client(hub, agent_name)
    d = ops.check_policy({"type": "ping"})
    assert d.decision == "REQUIRE_APPROVAL"
    assert d.approval_id
    started = time.monotonic()
    a = ops.wait_for_approval(d.approval_id, timeout=1.2)
    assert a.status == "pending"
    assert a.id == d.approval_id
    assert time.monotonic() - started >= 1.0
    with pytest.raises(ApiError) as info:
        ops.wait_for_approval("apr_missing", timeout=1)
    assert info.value.code == "not_found"
    assert info.value.status == 404
    # guard with a short approval timeout: no decision in time is a refusal.
    with pytest.raises(PolicyBlockedError, match="no decision in time"):
        ops.guard({"type": "ping"}, lambda: "pong", run_id="r-timeout", approval_timeout=1)
    ops.shutdown()


def test_fails_closed_when_the_hub_is_unreachable_and_open_when_configured() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    closed = AgentOps(hub_url=url, api_key="ahk_x", agent="Offline", max_retries=2)
    d = closed.check_policy({"type": "send_email"})
    assert (d.decision, d.unavailable) == ("BLOCK", True)
    assert (d.reasons[0].name, d.reasons[0].effect) == ("hub_unreachable", "fail_closed")
    ran: List[bool] = []
    with pytest.raises(PolicyBlockedError, match="no policy decision"):
        closed.guard({"type": "send_email"}, lambda: ran.append(True), run_id="r1")
    with pytest.raises(PolicyBlockedError), closed.guard({"type": "send_email"}):
        ran.append(True)
    assert ran == []

    opened = AgentOps(hub_url=url, agent="Offline", max_retries=1, policy_failure="open")
    assert opened.guard({"type": "send_email"}, lambda: "sent") == "sent"
    closed.shutdown(timeout=0.2)
    opened.shutdown(timeout=0.2)


def test_a_bad_key_is_no_decision_and_fails_closed(hub: Hub, agent_name: str) -> None:
    ops = AgentOps(hub_url=hub.url, api_key="ahk_" + "0" * 40, agent=agent_name)
    d = ops.check_policy({"type": "send_email"})
    assert (d.decision, d.unavailable) == ("BLOCK", True)
    assert "401 unauthenticated" in (d.reasons[0].message or "")
    ops.shutdown(timeout=0.2)


def test_guard_forms_record_the_action_with_its_outcome(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name)

    @ops.guard({"type": "send_email", "to": "dana@example.test"})
    def send(subject: str) -> str:
        return f"sent {subject}"

    with ops.run("mail") as run:
        assert send("hello") == "sent hello"
        with ops.guard({"type": "update_crm"}) as decision:
            assert decision.allowed
        with pytest.raises(ValueError, match="smtp down"), ops.guard({"type": "send_sms"}):
            raise ValueError("smtp down")
    ops.flush(timeout=10)
    d = hub.wait_run(run.id)
    actions = {e["payload"]["action"]["type"]: e["payload"] for e in d["events"] if e["type"] == "external_action"}
    assert actions["send_email"]["status"] == "done"
    assert actions["update_crm"]["status"] == "done"
    assert actions["send_sms"]["status"] == "failed"
    assert actions["send_sms"]["error"] == {"name": "ValueError", "message": "smtp down"}
    assert len(d["decisions"]) == 3
    ops.shutdown()
