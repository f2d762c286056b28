"""Integrations of AgentOps Hub with the frameworks Python agents are built on. Each is its own module and
imports its framework only when used, so ``agentops_hub`` itself never depends on any of them:

- ``agentops_hub.integrations.openai``: ``wrap_openai(client, agentops)`` records each chat completion and
  response (streamed too) as an ``llm_call`` (``pip install 'agentops-hub[openai]'``).
- ``agentops_hub.integrations.openai_agents``: ``AgentOpsTracingProcessor`` turns the OpenAI Agents SDK's
  traces into runs and events; ``guard_tool`` makes a ``FunctionTool`` ask the hub before it acts
  (``pip install 'agentops-hub[openai-agents]'``).
- ``agentops_hub.integrations.langchain``: ``AgentOpsCallbackHandler`` for LangChain and LangGraph runs,
  model and tool calls; ``guard_tool`` / ``guarded`` for tools (``pip install 'agentops-hub[langchain]'``).

Pydantic AI (and any OpenTelemetry GenAI instrumentation) needs no module here: point its OTLP exporter at
the hub's ``/v1/traces`` (see the README).
"""
