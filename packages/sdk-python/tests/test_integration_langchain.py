"""LangChain and LangGraph (the real ``langchain-core``, ``langchain-openai`` and ``langgraph`` packages) against
the scripted model on loopback: ``AgentOpsCallbackHandler`` records the graph as a run with its model and tool
calls; ``guard_tool`` / ``guarded`` make tools ask the hub first."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest
from langchain_core.messages import SystemMessage
from langchain_core.tools import BaseTool, tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agentops_hub import AgentOps, AgentPausedError, AsyncAgentOps
from agentops_hub.integrations.langchain import AgentOpsCallbackHandler, guard_tool, guarded
from conftest import Hub, events_of, eventually, settled_run
from scripted_model import Reply, ScriptedModel


@tool
def lookup_order(order_id: str) -> Dict[str, Any]:
    """Looks an order up by its id."""
    if order_id != "A-1001":
        raise ValueError(f"no order {order_id}")
    return {"order_id": order_id, "item": "Espresso machine", "total_usd": 250}


def chat_model(model: ScriptedModel) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini", base_url=model.base_url, api_key="scripted", max_retries=0)  # type: ignore[arg-type]


def react_graph(model: ScriptedModel, tools: List[BaseTool], prompt: str = "", handle_errors: bool = False) -> Any:
    """The usual LangGraph agent: a model node that may call tools, and a tool node."""
    llm = chat_model(model).bind_tools(tools)

    def call_model(state: MessagesState) -> Dict[str, Any]:
        messages = [SystemMessage(prompt), *state["messages"]] if prompt else state["messages"]
        return {"messages": [llm.invoke(messages)]}

    g = StateGraph(MessagesState)
    g.add_node("agent", call_model)
    g.add_node("tools", ToolNode(tools, handle_tool_errors=handle_errors))
    g.add_edge(START, "agent")
    g.add_conditional_edges("agent", tools_condition)
    g.add_edge("tools", "agent")
    return g.compile()


def client(hub: Hub, agent: str) -> AgentOps:
    return AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent, flush_interval=0.1)


def runs_of(hub: Hub, agent: str) -> List[Dict[str, Any]]:
    _, body = hub.api("GET", f"/v1/runs?agent={agent}")
    return list(body["data"])


def test_a_langgraph_agent_is_a_run_with_its_model_and_tool_calls(
    hub: Hub, agent_name: str, model: ScriptedModel
) -> None:
    ops = client(hub, agent_name)
    handler = AgentOpsCallbackHandler(ops)
    graph = react_graph(model, [lookup_order], prompt="You answer order questions.", handle_errors=True)
    model.script(
        Reply(tool_calls=[("lookup_order", {"order_id": "A-1001"})], input_tokens=500, output_tokens=30),
        Reply(tool_calls=[("lookup_order", {"order_id": "B-9"})], input_tokens=600, output_tokens=25),
        Reply(text="A-1001 is an espresso machine for $250.", input_tokens=700, output_tokens=20, cached_tokens=128),
    )
    out = graph.invoke({"messages": [("user", "What is order A-1001?")]}, config={"callbacks": [handler]})
    assert out["messages"][-1].content == "A-1001 is an espresso machine for $250."
    ops.flush(timeout=10)

    run_id = eventually(lambda: [r["id"] for r in runs_of(hub, agent_name)])[0]
    run = settled_run(hub, run_id, "completed")
    assert run["metadata"] == {"name": "LangGraph", "source": "langchain"}
    assert "What is order A-1001?" in str(run["input"])
    assert "espresso machine for $250" in str(run["output"])
    assert run["cost_usd"] > 0
    calls = events_of(run, "llm_call")
    assert [(c["model"], c["input_tokens"], c["output_tokens"]) for c in calls] == [
        ("gpt-4o-mini", 500, 30),
        ("gpt-4o-mini", 600, 25),
        ("gpt-4o-mini", 700, 20),
    ]
    assert calls[2]["cached_input_tokens"] == 128
    assert all(c["provider"] == "openai" and c["cost_usd"] > 0 for c in calls)
    assert calls[0]["input_messages"] == [
        {"role": "system", "content": "You answer order questions."},
        {"role": "user", "content": "What is order A-1001?"},
    ]
    assert calls[0]["output_messages"][0]["tool_calls"][0]["name"] == "lookup_order"
    assert calls[2]["output_messages"][0]["content"] == "A-1001 is an espresso machine for $250."
    called = events_of(run, "tool_called")
    assert [(t["tool"], t["args"]) for t in called] == [
        ("lookup_order", {"order_id": "A-1001"}),
        ("lookup_order", {"order_id": "B-9"}),
    ]
    results = events_of(run, "tool_result")
    assert "Espresso machine" in str(results[0]["result"])
    assert results[1]["error"] == {"name": "ValueError", "message": "no order B-9"}

    # A model called on its own is a run of its own; inside agentops.run() it joins that run.
    model.script(Reply(text="Hello", input_tokens=10, output_tokens=2), Reply(text="Again", input_tokens=11))
    chat_model(model).invoke("Hi", config={"callbacks": [handler]})
    with ops.run("by-hand") as mine:
        chat_model(model).invoke("Hi again", config={"callbacks": [handler]})
    ops.flush(timeout=10)
    assert len(eventually(lambda: len(runs_of(hub, agent_name)) == 3 and runs_of(hub, agent_name))) == 3
    assert [c["input_tokens"] for c in events_of(settled_run(hub, mine.id), "llm_call")] == [11]
    ops.shutdown()


def test_guarded_tools_wait_for_approval_refuse_when_blocked_and_stop_when_paused(
    hub: Hub, agent_name: str, model: ScriptedModel
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
    hub.policy(
        f"No huge refunds for {agent_name}",
        {
            "all": [
                {"field": "agent.name", "op": "eq", "value": agent_name},
                {"field": "action.amount", "op": "gt", "value": 1000},
            ]
        },
        "block",
    )
    ops = client(hub, agent_name)
    handler = AgentOpsCallbackHandler(ops)
    refunded: List[Any] = []

    @tool
    @guarded(ops, action=lambda a: {"type": "issue_refund", "currency": "usd", **a})
    def issue_refund(order_id: str, amount: float) -> str:
        """Refunds an order."""
        refunded.append((order_id, amount))
        return f"refunded {amount} on {order_id}"

    graph = react_graph(model, [issue_refund])
    model.script(
        Reply(tool_calls=[("issue_refund", {"order_id": "A-1001", "amount": 250})]),
        Reply(text="Refunded."),
    )
    out: Dict[str, Any] = {}

    def agent() -> None:
        out["result"] = graph.invoke({"messages": [("user", "Refund A-1001")]}, config={"callbacks": [handler]})

    t = threading.Thread(target=agent, daemon=True)
    t.start()

    def pending() -> Any:
        _, body = hub.api("GET", "/v1/approvals?status=pending")
        return next((a for a in body["data"] if a["action"].get("order_id") == "A-1001"), None)

    approval = eventually(pending)
    assert approval["action"] == {"type": "issue_refund", "currency": "usd", "order_id": "A-1001", "amount": 250}
    assert refunded == []
    run_id = approval["run_id"]
    assert run_id  # the decision sits on the graph's run
    status, _ = hub.api("POST", f"/v1/approvals/{approval['id']}/approve", {}, session=True)
    assert status == 200
    t.join(30)
    assert out["result"]["messages"][-1].content == "Refunded."
    assert refunded == [("A-1001", 250)]
    ops.flush(timeout=10)
    run = settled_run(hub, run_id, "completed")
    action = events_of(run, "external_action")[0]
    assert (action["status"], action["approval_id"]) == ("done", approval["id"])

    # Blocked: the model reads the refusal as the tool's answer; nothing is refunded.
    model.script(
        Reply(tool_calls=[("issue_refund", {"order_id": "A-1001", "amount": 5000})]),
        Reply(text="I cannot refund that."),
    )
    result = graph.invoke({"messages": [("user", "Refund 5000")]}, config={"callbacks": [handler]})
    assert result["messages"][-1].content == "I cannot refund that."
    refusal = result["messages"][-2]
    assert refusal.type == "tool"
    assert f"No huge refunds for {agent_name}" in refusal.content
    assert refunded == [("A-1001", 250)]

    # guard_tool on an existing async tool, with the asyncio client; a paused agent stops the graph.
    sent: List[str] = []

    @tool
    async def send_email(to: str) -> str:
        """Sends an email."""
        sent.append(to)
        return "sent"

    aops = AsyncAgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=0.1)
    guarded_send = guard_tool(send_email, aops)
    assert guarded_send.name == "send_email"
    assert guarded_send.args == send_email.args
    _, info = hub.api("GET", f"/v1/agents/{agent_name}")
    status, _ = hub.api("POST", f"/v1/agents/{info['id']}/pause", {"reason": "incident", "mode": "block"})
    assert status == 200
    model.script(Reply(tool_calls=[("send_email", {"to": "sam@example.test"})]), Reply(text="done"))
    agraph = react_graph(model, [guarded_send])
    ahandler = AgentOpsCallbackHandler(aops)

    async def paused() -> None:
        try:
            with pytest.raises(AgentPausedError, match="incident"):
                await agraph.ainvoke({"messages": [("user", "Email Sam")]}, config={"callbacks": [ahandler]})
        finally:
            await aops.shutdown()

    asyncio.run(paused())
    assert sent == []
    failed = eventually(lambda: [r for r in runs_of(hub, agent_name) if r["status"] == "failed"])
    assert "incident" in str(settled_run(hub, failed[0]["id"])["error"])
    hub.api("POST", f"/v1/agents/{info['id']}/resume", {})
    ops.shutdown()
