"""``wrap_openai`` with the real ``openai`` client (sync and async) against the scripted model on loopback:
each chat completion and response, streamed or not, is an ``llm_call`` the hub prices."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import openai

from agentops_hub import AgentOps, AsyncAgentOps
from agentops_hub.integrations.openai import wrap_openai
from conftest import Hub, events_of, settled_run
from scripted_model import Reply, ScriptedModel


def llm_calls(hub: Hub, run_id: str) -> List[Dict[str, Any]]:
    return events_of(settled_run(hub, run_id), "llm_call")


def test_sync_client_records_chat_and_responses_plain_and_streamed(
    hub: Hub, agent_name: str, model: ScriptedModel
) -> None:
    model.script(
        Reply(text="Hello Sam", input_tokens=812, output_tokens=64, cached_tokens=200),
        Reply(text="streamed answer here", input_tokens=300, output_tokens=30),
        Reply(text="a response", input_tokens=150, output_tokens=15, reasoning_tokens=5),
        Reply(text="a streamed response", input_tokens=120, output_tokens=12),
    )
    ops = AgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=0.1)
    client = wrap_openai(openai.OpenAI(base_url=model.base_url, api_key="scripted"), ops, include_content=True)
    assert wrap_openai(client, ops) is client  # wrapping twice records once
    messages: Any = [{"role": "user", "content": "Hi"}]
    with ops.run("answer") as run:
        c = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        assert c.choices[0].message.content == "Hello Sam"
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
        assert isinstance(stream, openai.Stream)
        assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == "streamed answer here"
        r = client.responses.create(model="gpt-4o-mini", input="What is up?", instructions="Be brief")
        assert r.output_text == "a response"
        with client.responses.create(model="gpt-4o-mini", input="Stream it", stream=True) as events:
            assert [e.type for e in events][-1] == "response.completed"
    # The caller's stream asked for its usage (the wrapper added include_usage).
    assert model.requests[1][1]["stream_options"] == {"include_usage": True}
    # Outside a run: the call works and nothing is recorded.
    model.script(Reply(text="unrecorded"))
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    ops.flush(timeout=10)

    calls = llm_calls(hub, run.id)
    assert [(c["model"], c["input_tokens"], c["output_tokens"]) for c in calls] == [
        ("gpt-4o-mini", 812, 64),
        ("gpt-4o-mini", 300, 30),
        ("gpt-4o-mini", 150, 15),
        ("gpt-4o-mini", 120, 12),
    ]
    assert calls[0]["cached_input_tokens"] == 200
    assert calls[2]["reasoning_tokens"] == 5
    assert all(c["provider"] == "openai" and c["cost_usd"] > 0 and c["duration_ms"] >= 0 for c in calls)
    assert calls[0]["input_messages"] == [{"role": "user", "content": "Hi"}]
    assert calls[0]["output_messages"][0]["content"] == "Hello Sam"
    assert calls[1]["output_messages"][0]["content"] == "streamed answer here"
    assert calls[2]["input_messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "What is up?"},
    ]
    assert calls[3]["output_messages"][0]["content"] == "a streamed response"
    _, runs = hub.api("GET", f"/v1/runs?agent={agent_name}")
    assert len(runs["data"]) == 1
    assert runs["data"][0]["cost_usd"] > 0
    ops.shutdown()


def test_async_client_records_plain_and_streamed_calls_and_tool_calls(
    hub: Hub, agent_name: str, model: ScriptedModel
) -> None:
    model.script(
        Reply(tool_calls=[("lookup_order", {"order_id": "A-1"})], input_tokens=90, output_tokens=9),
        Reply(tool_calls=[("lookup_order", {"order_id": "A-2"})], input_tokens=80, output_tokens=8),
        Reply(text="async response", input_tokens=70, output_tokens=7),
    )
    ops = AsyncAgentOps(hub_url=hub.url, api_key=hub.ingest_key, agent=agent_name, flush_interval=0.1)
    client = wrap_openai(openai.AsyncOpenAI(base_url=model.base_url, api_key="scripted"), ops, include_content=True)
    tools: Any = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]

    async def main() -> str:
        async with ops.run("async-answer") as run:
            c = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "A-1?"}], tools=tools
            )
            assert c.choices[0].message.tool_calls
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "A-2?"}], tools=tools, stream=True
            )
            assert isinstance(stream, openai.AsyncStream)
            async for _ in stream:
                pass
            r = await client.responses.create(model="gpt-4o-mini", input="and?", stream=True)
            async for _ in r:
                pass
        await ops.flush(timeout=10)
        return run.id

    run_id = asyncio.run(main())
    calls = llm_calls(hub, run_id)
    assert [(c["input_tokens"], c["output_tokens"]) for c in calls] == [(90, 9), (80, 8), (70, 7)]
    assert all(c["cost_usd"] > 0 for c in calls)
    assert calls[0]["output_messages"][0]["tool_calls"][0]["name"] == "lookup_order"
    streamed_call = calls[1]["output_messages"][0]["tool_calls"][0]
    assert (streamed_call["name"], streamed_call["arguments"]) == ("lookup_order", '{"order_id": "A-2"}')
    asyncio.run(ops.shutdown())
