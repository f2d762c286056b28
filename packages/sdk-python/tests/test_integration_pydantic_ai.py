"""Pydantic AI (the real ``pydantic-ai-slim[openai]``) through its OpenTelemetry instrumentation, exported with
the real ``opentelemetry-exporter-otlp-proto-http`` to the hub's ``/v1/traces`` with an agent's key: the hub
maps the GenAI spans to a run with its model calls (model, tokens, cost, prompts and answers) and tool
calls. No SDK code in between: these are the settings the README documents."""

from __future__ import annotations

from typing import Any, Dict, List

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pydantic_ai import Agent
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from conftest import Hub, events_of, eventually, settled_run
from scripted_model import Reply, ScriptedModel


def test_pydantic_ai_otel_spans_become_a_run_with_model_and_tool_calls(
    hub: Hub, agent_name: str, model: ScriptedModel
) -> None:
    # The documented settings: an OTLP/HTTP exporter to the hub's /v1/traces with an agent's key.
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "support-service"}))
    exporter = OTLPSpanExporter(
        endpoint=f"{hub.url}/v1/traces", headers={"Authorization": f"Bearer {hub.ingest_key}"}, timeout=10
    )
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    Agent.instrument_all(InstrumentationSettings(tracer_provider=tracer_provider, include_content=True))
    agent = Agent(
        OpenAIChatModel("gpt-4o-mini", provider=OpenAIProvider(base_url=model.base_url, api_key="scripted")),
        name=agent_name,
        instructions="You answer order questions.",
    )

    @agent.tool_plain
    def lookup_order(order_id: str) -> Dict[str, Any]:
        """Looks an order up by its id."""
        return {"order_id": order_id, "item": "Espresso machine", "total_usd": 250}

    model.script(
        Reply(tool_calls=[("lookup_order", {"order_id": "A-1001"})], input_tokens=640, output_tokens=24),
        Reply(text="A-1001 is an espresso machine for $250.", input_tokens=720, output_tokens=18),
    )
    try:
        result = agent.run_sync("What is order A-1001?")
    finally:
        Agent.instrument_all(False)
    assert result.output == "A-1001 is an espresso machine for $250."
    assert tracer_provider.force_flush(10_000)
    tracer_provider.shutdown()

    def run_ids() -> List[str]:
        _, body = hub.api("GET", f"/v1/runs?agent={agent_name}")
        return [r["id"] for r in body["data"]]

    run = settled_run(hub, eventually(run_ids)[0], "completed")
    assert run["agent_name"] == agent_name
    assert run["metadata"]["source"] == "otlp"
    assert run["cost_usd"] > 0
    # The agent span carries only its instructions (gen_ai.system_instructions): the run's input is the
    # first model call's prompt, the user's question with those instructions.
    assert "What is order A-1001?" in str(run["input"])
    assert "You answer order questions." in str(run["input"])
    assert "espresso machine for $250" in str(run["output"])
    calls = events_of(run, "llm_call")
    assert [(c["model"], c["input_tokens"], c["output_tokens"]) for c in calls] == [
        ("gpt-4o-mini", 640, 24),
        ("gpt-4o-mini", 720, 18),
    ]
    assert all(c["cost_usd"] > 0 and c["provider"] == "openai" for c in calls)
    assert {"role": "user", "content": "What is order A-1001?"} in calls[0]["input_messages"]
    assert calls[0]["output_messages"][0]["tool_calls"][0]["name"] == "lookup_order"
    assert calls[1]["output_messages"][0]["content"] == "A-1001 is an espresso machine for $250."
    called = events_of(run, "tool_called")
    assert [t["tool"] for t in called] == ["lookup_order"]
    assert "A-1001" in str(called[0].get("args"))
    assert "Espresso machine" in str(events_of(run, "tool_result")[0].get("result"))
