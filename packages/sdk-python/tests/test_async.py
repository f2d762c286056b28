"""The asyncio client against the real hub, on both transports (the standard library on worker threads, and
httpx): runs carried by contextvars across tasks, the async guard forms, approvals, failing closed."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Literal

import pytest

from agentops_hub import ActionSkipped, AgentOps, AgentPausedError, AsyncAgentOps, PolicyBlockedError
from conftest import Hub, free_port
from test_policy import pending_approval

Backend = Literal["urllib", "httpx"]
BACKENDS: List[Backend] = ["urllib", "httpx"]


def client(hub: Hub, agent: str, backend: Backend, **extra: Any) -> AsyncAgentOps:
    return AsyncAgentOps(
        hub_url=hub.url, api_key=hub.ingest_key, agent=agent, flush_interval=0.1, http_backend=backend, **extra
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_runs_keep_their_own_events_through_contextvars(hub: Hub, agent_name: str, backend: Backend) -> None:
    ops = client(hub, agent_name, backend)
    assert ops.http_backend == backend

    async def reply(ticket: str) -> str:
        await asyncio.sleep(0)
        return f"sent {ticket}"

    @ops.run("ticket")
    async def handle(ticket: str) -> str:
        run = ops.current_run()
        assert run is not None
        for step in range(3):
            ops.record_tool_call("lookup", args={"ticket": ticket, "step": step})
            await asyncio.sleep(0.01)  # the other tickets interleave here
        d = await ops.check_policy({"type": "read_faq"})
        assert d.allowed
        sent = await ops.guard({"type": "send_reply", "ticket": ticket}, lambda: reply(ticket))
        return f"{run.id}|{sent}"

    async def main() -> List[str]:
        out = await asyncio.gather(*(handle(t) for t in ("T-1", "T-2", "T-3")))
        assert await ops.flush(timeout=10)
        await ops.shutdown()
        return list(out)

    results = asyncio.run(main())
    for ticket, result in zip(("T-1", "T-2", "T-3"), results):
        run_id, sent = result.split("|")
        assert sent == f"sent {ticket}"
        d = hub.wait_run(run_id)
        calls = [e["payload"]["args"] for e in d["events"] if e["type"] == "tool_called"]
        assert calls == [{"ticket": ticket, "step": s} for s in range(3)]
        action = next(e["payload"] for e in d["events"] if e["type"] == "external_action")
        assert action["action"] == {"type": "send_reply", "ticket": ticket}
        assert len(d["decisions"]) == 2
        assert d["output"] == result


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_guard_waits_for_approval_and_refuses_blocks(hub: Hub, agent_name: str, backend: Backend) -> None:
    hub.policy(
        f"Refunds for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.type", "op": "starts_with", "value": "issue_refund"},
            ]
        },
        "require_approval",
    )
    hub.policy(
        f"No deletes for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.type", "op": "eq", "value": "delete_account"},
            ]
        },
        "block",
    )
    ops = client(hub, agent_name, backend)
    ran: List[str] = []
    refund_type = f"issue_refund_{backend}"  # the test finds its own pending approval by this type

    @ops.guard({"type": refund_type, "amount": 250})
    async def refund() -> str:
        ran.append("refund")
        return "refunded"

    async def main() -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        async with ops.run("refund") as run:
            out["run"] = run.id
            task = asyncio.create_task(refund())
            approval = await asyncio.to_thread(pending_approval, hub, refund_type)
            assert not task.done()
            status, body = await asyncio.to_thread(
                hub.api, "POST", f"/v1/approvals/{approval['id']}/approve", {}, session=True
            )
            assert status == 200, body
            out["refund"] = await asyncio.wait_for(task, 20)
            with pytest.raises(PolicyBlockedError):
                async with ops.guard({"type": "delete_account"}):
                    ran.append("delete")
        await ops.shutdown()
        return out

    out = asyncio.run(main())
    assert out["refund"] == "refunded"
    assert ran == ["refund"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_fails_closed_and_pauses_raise(hub: Hub, agent_name: str, backend: Backend) -> None:
    async def main() -> None:
        offline = AsyncAgentOps(
            hub_url=f"http://127.0.0.1:{free_port()}", agent="Offline", max_retries=2, http_backend=backend
        )
        d = await offline.check_policy({"type": "send_email"})
        assert (d.decision, d.unavailable) == ("BLOCK", True)
        with pytest.raises(PolicyBlockedError):
            await offline.guard({"type": "send_email"}, lambda: "sent")
        await offline.shutdown(timeout=0.2)

        ops = client(hub, agent_name, backend)
        run = ops.record_run_start("paused")
        await ops.flush(timeout=10)
        _, agent = hub.api("GET", f"/v1/agents/{agent_name}")
        hub.api("POST", f"/v1/agents/{agent['id']}/pause", {"mode": "block"})
        with pytest.raises(AgentPausedError):
            await run.guard({"type": "send_email"}, lambda: "sent")
        hub.api("POST", f"/v1/agents/{agent['id']}/resume", {})
        hub.api("POST", f"/v1/agents/{agent['id']}/pause", {"mode": "failsafe"})
        assert await run.guard({"type": "send_email"}, lambda: "sent") is None
        with pytest.raises(ActionSkipped):
            async with run.guard({"type": "send_email"}):
                pass
        hub.api("POST", f"/v1/agents/{agent['id']}/resume", {})
        assert await run.guard({"type": "send_email"}, lambda: "sent") == "sent"
        run.end()
        await ops.shutdown()

    asyncio.run(main())


def test_async_guard_refuses_sync_forms(hub: Hub, agent_name: str) -> None:
    ops = client(hub, agent_name, "urllib", controls_refresh=0)
    with pytest.raises(TypeError, match="async with"), ops.guard({"type": "x"}):
        pass
    with pytest.raises(TypeError, match="async functions"):
        ops.guard({"type": "x"})(lambda: None)  # type: ignore[arg-type, return-value]
    asyncio.run(ops.shutdown())


def test_the_sync_client_guards_async_code_on_a_worker_thread(hub: Hub, agent_name: str) -> None:
    ops = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=0.1)

    @ops.guard({"type": "send_email"})
    async def send() -> str:
        await asyncio.sleep(0)
        return "sent"

    async def main() -> str:
        async with ops.run("mixed") as run:
            assert await send() == "sent"
            async with ops.guard({"type": "update_crm"}) as decision:
                assert decision.allowed
            return run.id

    run_id = asyncio.run(main())
    ops.flush(timeout=10)
    d = hub.wait_run(run_id)
    assert sorted(e["payload"]["action"]["type"] for e in d["events"] if e["type"] == "external_action") == [
        "send_email",
        "update_crm",
    ]
    assert len(d["decisions"]) == 2  # the worker thread saw the run through the copied context
    ops.shutdown()
