"""examples/python/support_bot.py run as users run it (its documented command, a subprocess) against the real
hub: it waits for a person's approval of the $250 refund, is approved by the owner, and records the run; then,
with the agent paused, it issues no refund and says why."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from conftest import REPO_ROOT, Hub, events_of, eventually, settled_run

EXAMPLE = REPO_ROOT / "examples/python/support_bot.py"


def start(hub: Hub, agent: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTOPS_HUB_URL": hub.url, "AGENTOPS_API_KEY": hub.ingest_key, "AGENTOPS_AGENT": agent}
    return subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def runs_of(hub: Hub, agent: str) -> List[Dict[str, Any]]:
    _, body = hub.api("GET", f"/v1/runs?agent={agent}")
    return list(body["data"])


def test_the_support_bot_waits_for_approval_then_stops_when_paused(hub: Hub, agent_name: str) -> None:
    hub.policy(
        f"Refunds over $100 need a human ({agent_name})",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.type", "op": "eq", "value": "issue_refund"},
                {"field": "action.amount", "op": "gt", "value": 100},
            ]
        },
        "require_approval",
    )
    proc = start(hub, agent_name)
    try:

        def pending() -> Optional[Dict[str, Any]]:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            _, body = hub.api("GET", "/v1/approvals?status=pending")
            return next((a for a in body["data"] if a["action"].get("order_id") == "A-1001"), None)

        approval = eventually(pending, timeout=60)
        assert approval["action"] == {"type": "issue_refund", "order_id": "A-1001", "amount": 250, "currency": "usd"}
        time.sleep(0.3)
        assert proc.poll() is None  # waiting for a person
        status, _ = hub.api("POST", f"/v1/approvals/{approval['id']}/approve", {"comment": "ok"}, session=True)
        assert status == 200
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "waiting for approval" in out
    assert "refund issued" in out
    assert "SupportBot: done." in out

    run = settled_run(hub, approval["run_id"], "completed")
    assert run["agent_name"] == agent_name
    assert run["external_ref"] == "T-4711"
    assert run["cost_usd"] > 0
    assert "refunded the full $250" in run["output"]["reply"]
    assert [(c["model"], c["input_tokens"]) for c in events_of(run, "llm_call")] == [
        ("gpt-4o-mini", 812),
        ("gpt-4o-mini", 905),
        ("gpt-4o-mini", 980),
    ]
    assert [t["tool"] for t in events_of(run, "tool_result")] == ["lookup_order", "issue_refund"]
    action = events_of(run, "external_action")[0]
    assert (action["status"], action["approval_id"]) == ("done", approval["id"])

    # Paused: no refund, and the bot says why.
    _, agent = hub.api("GET", f"/v1/agents/{agent_name}")
    status, _ = hub.api("POST", f"/v1/agents/{agent['id']}/pause", {"reason": "incident review", "mode": "block"})
    assert status == 200
    try:
        paused = start(hub, agent_name)
        out, _ = paused.communicate(timeout=60)
    finally:
        hub.api("POST", f"/v1/agents/{agent['id']}/resume", {})
    assert paused.returncode == 0, out
    assert "no refund issued, the agent is paused by the hub (agent_paused)" in out
    assert "incident review" in out
    failed = eventually(lambda: [r for r in runs_of(hub, agent_name) if r["status"] == "failed"])
    assert len(failed) == 1
