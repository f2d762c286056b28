"""The OpenAI Agents SDK (the real ``openai-agents`` package) against the scripted model on loopback: its
traces become hub runs and events through ``AgentOpsTracingProcessor``, and ``guard_tool`` makes a tool ask
the hub first (waiting for a person, refusing, stopping when the agent is paused)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Dict, Iterator, List

import pytest
from agents import (
    Agent,
    GuardrailFunctionOutput,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    input_guardrail,
    set_trace_processors,
)
from openai import AsyncOpenAI

from agentops_hub import AgentOps, AgentPausedError
from agentops_hub.integrations.openai_agents import AgentOpsTracingProcessor, guard_tool, guarded_tool
from conftest import Hub, events_of, eventually, settled_run
from scripted_model import Reply, ScriptedModel

ORDERS = {"A-1001": {"order_id": "A-1001", "item": "Espresso machine", "total_usd": 250, "status": "delivered"}}


@function_tool
def lookup_order(order_id: str) -> Dict[str, Any]:
    """Looks an order up by its id."""
    return ORDERS[order_id]


@pytest.fixture
def ops(hub: Hub, agent_name: str) -> Iterator[AgentOps]:
    client = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=0.1)
    # Instead of OpenAI's exporter (no network): only the hub's processor.
    set_trace_processors([AgentOpsTracingProcessor(client)])
    try:
        yield client
    finally:
        set_trace_processors([])
        client.shutdown()


def hub_runs(hub: Hub, agent: str) -> List[Dict[str, Any]]:
    _, body = hub.api("GET", f"/v1/runs?agent={agent}")
    return list(body["data"])


def test_a_trace_is_a_run_with_model_calls_tools_handoffs_and_guardrails(
    hub: Hub, ops: AgentOps, agent_name: str, model: ScriptedModel
) -> None:
    client = AsyncOpenAI(base_url=model.base_url, api_key="scripted")
    refunds = Agent(
        name="Refunds",
        instructions="You settle refunds.",
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
    )

    @input_guardrail
    def polite(ctx: Any, agent: Any, input: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"polite": True}, tripwire_triggered=False)

    triage = Agent(
        name="Triage",
        instructions="You answer support tickets.",
        model=OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client),
        tools=[lookup_order],
        handoffs=[refunds],
        input_guardrails=[polite],
    )
    model.script(
        Reply(tool_calls=[("lookup_order", {"order_id": "A-1001"})], input_tokens=812, output_tokens=40),
        Reply(tool_calls=[("transfer_to_refunds", {})], input_tokens=900, output_tokens=12, cached_tokens=256),
        Reply(text="Your $250 refund is on its way.", input_tokens=400, output_tokens=16),
    )
    result = Runner.run_sync(triage, "My espresso machine A-1001 arrived broken.")
    assert result.final_output == "Your $250 refund is on its way."
    assert [p for p, _ in model.requests] == ["/v1/responses", "/v1/responses", "/v1/chat/completions"]
    ops.flush(timeout=10)

    run_id = eventually(lambda: [r["id"] for r in hub_runs(hub, agent_name)])[0]
    run = settled_run(hub, run_id, "completed")
    assert run["agent_name"] == agent_name
    assert run["metadata"]["source"] == "openai-agents"
    assert run["output"] == {"text": "Your $250 refund is on its way."}
    assert run["cost_usd"] > 0
    calls = events_of(run, "llm_call")
    assert [(c["model"], c["input_tokens"], c["output_tokens"]) for c in calls] == [
        ("gpt-4o-mini", 812, 40),
        ("gpt-4o-mini", 900, 12),
        ("gpt-4o-mini", 400, 16),
    ]
    assert calls[1]["cached_input_tokens"] == 256
    assert all(c["cost_usd"] > 0 and c["provider"] == "openai" for c in calls)
    # Prompts and answers: the Responses call and the chat completion of the agent that took over.
    assert calls[0]["input_messages"][0] == {"role": "system", "content": "You answer support tickets."}
    assert {"role": "user", "content": "My espresso machine A-1001 arrived broken."} in calls[0]["input_messages"]
    assert calls[0]["output_messages"][0]["tool_calls"][0]["name"] == "lookup_order"
    assert calls[2]["input_messages"][0] == {"role": "system", "content": "You settle refunds."}
    assert calls[2]["output_messages"][-1]["content"] == "Your $250 refund is on its way."
    tools = events_of(run, "tool_result")
    lookup = next(t for t in tools if t["tool"] == "lookup_order")
    assert lookup["duration_ms"] >= 0
    assert "Espresso machine" in json.dumps(lookup["result"])
    called = next(t for t in events_of(run, "tool_called") if t["tool"] == "lookup_order")
    assert called["args"] == {"order_id": "A-1001"}
    logs = events_of(run, "log")
    kinds = {entry["kind"] for entry in logs}
    assert {"handoff", "guardrail", "agent"} <= kinds
    handoff = next(entry for entry in logs if entry["kind"] == "handoff")
    assert (handoff["from_agent"], handoff["to_agent"]) == ("Triage", "Refunds")


def refund_agent(model: ScriptedModel, refund: Any) -> Agent[Any]:
    client = AsyncOpenAI(base_url=model.base_url, api_key="scripted")
    return Agent(
        name="SupportBot",
        instructions="Refund broken orders.",
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
        tools=[refund],
    )


def test_a_guarded_tool_waits_for_a_person_then_a_block_is_the_tools_answer(
    hub: Hub, ops: AgentOps, agent_name: str, model: ScriptedModel
) -> None:
    hub.policy(
        f"Refunds over 100 for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.type", "op": "eq", "value": "issue_refund"},
                {"field": "action.amount", "op": "gt", "value": 100},
            ]
        },
        "require_approval",
    )
    refunded: List[Any] = []

    @guarded_tool(ops, action=lambda a: {"type": "issue_refund", "currency": "usd", **a})
    async def issue_refund(order_id: str, amount: float) -> str:
        """Refunds an order."""
        refunded.append((order_id, amount))
        return f"refunded {amount} on {order_id}"

    agent = refund_agent(model, issue_refund)
    model.script(
        Reply(tool_calls=[("issue_refund", {"order_id": "A-1001", "amount": 250})]),
        Reply(text="Refunded."),
    )
    out: Dict[str, Any] = {}

    def run_agent() -> None:
        with ops.run("refund-ticket") as run:
            out["run"] = run.id
            out["result"] = Runner.run_sync(agent, "Refund A-1001").final_output

    t = threading.Thread(target=run_agent, daemon=True)
    t.start()

    def pending() -> Any:
        _, body = hub.api("GET", "/v1/approvals?status=pending")
        return next((a for a in body["data"] if a["run_id"] == out.get("run")), None)

    approval = eventually(pending)
    assert approval["action"] == {"type": "issue_refund", "currency": "usd", "order_id": "A-1001", "amount": 250}
    assert refunded == []  # waiting for a person
    status, _ = hub.api("POST", f"/v1/approvals/{approval['id']}/approve", {"comment": "ok"}, session=True)
    assert status == 200
    t.join(30)
    assert out["result"] == "Refunded."
    assert refunded == [("A-1001", 250)]
    ops.flush(timeout=10)
    run = settled_run(hub, out["run"], "completed")
    action = events_of(run, "external_action")[0]
    assert (action["status"], action["approval_id"]) == ("done", approval["id"])
    assert [t["tool"] for t in events_of(run, "tool_result")] == ["issue_refund"]

    # A block: the tool does not run and the model reads the refusal as the tool's answer.
    hub.policy(
        f"No refunds for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.amount", "op": "gt", "value": 1000},
            ]
        },
        "block",
    )
    model.script(
        Reply(tool_calls=[("issue_refund", {"order_id": "A-1001", "amount": 5000})]),
        Reply(text="I cannot refund that much."),
    )
    # A fresh client: the first one's connections belong to the other thread's event loop.
    result = Runner.run_sync(refund_agent(model, issue_refund), "Refund 5000 on A-1001")
    assert result.final_output == "I cannot refund that much."
    assert refunded == [("A-1001", 250)]
    tool_answer = next(m for m in model.requests[1][1]["messages"] if m["role"] == "tool")
    assert f"No refunds for {agent_name}" in tool_answer["content"]
    assert "Refused by AgentOps Hub" in tool_answer["content"]


def test_a_paused_agent_stops_the_run(hub: Hub, ops: AgentOps, agent_name: str, model: ScriptedModel) -> None:
    ran: List[bool] = []

    async def send_email(ctx: Any, args: str) -> str:
        ran.append(True)
        return "sent"

    plain = function_tool(lambda to: ran.append(True) or "sent", name_override="send_email")
    guarded = guard_tool(plain, ops)
    assert guarded is not plain
    assert guarded.name == "send_email"
    agent = refund_agent(model, guarded)

    ops.record_run_start("register")
    assert ops.flush(timeout=10)
    _, info = hub.api("GET", f"/v1/agents/{agent_name}")
    status, _ = hub.api("POST", f"/v1/agents/{info['id']}/pause", {"reason": "incident", "mode": "block"})
    assert status == 200
    model.script(Reply(tool_calls=[("send_email", {"to": "sam@example.test"})]), Reply(text="sent"))
    with pytest.raises(AgentPausedError) as err:
        asyncio.run(Runner.run(agent, "Email Sam"))
    assert err.value.hold.reason == "agent_paused"
    assert "incident" in str(err.value)
    assert ran == []
    ops.flush(timeout=10)
    runs = [r for r in hub_runs(hub, agent_name) if r["status"] == "failed"]
    assert runs, "the trace's run ends failed"
    hub.api("POST", f"/v1/agents/{info['id']}/resume", {})
