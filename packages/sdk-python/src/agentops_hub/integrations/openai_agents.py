"""The OpenAI Agents SDK (``pip install openai-agents``, imported as ``agents``).

``AgentOpsTracingProcessor`` turns the SDK's traces into hub runs and events: a trace is a run (or joins the
current ``agentops.run()``), named after the trace's workflow and its first agent; each generation or
response span is an ``llm_call`` (model, tokens, cached and reasoning tokens, duration, and the messages
with ``include_content``); each function span a ``tool_called`` + ``tool_result`` pair (arguments, output or
error, duration); handoffs, guardrails and agents that take over are ``log`` events. The run ends with the
last answer as its output, or ``failed`` with the error of an agent span.

``guard_tool`` (or the ``guarded_tool`` decorator) makes a ``FunctionTool`` ask the hub before it runs: a
policy that requires approval makes it wait for a person; a refusal is what the model reads as the tool's
answer (``on_blocked="raise"`` stops the run instead); a paused agent or the kill switch stops the run with
``AgentPausedError`` (the Agents SDK lets it through as an ``AgentsException``).

Example::

    from agents import Agent, Runner, add_trace_processor
    from agentops_hub import AgentOps
    from agentops_hub.integrations.openai_agents import AgentOpsTracingProcessor, guarded_tool

    agentops = AgentOps(agent="SupportBot")
    add_trace_processor(AgentOpsTracingProcessor(agentops))

    @guarded_tool(agentops, action=lambda a: {"type": "issue_refund", **a})
    def issue_refund(order_id: str, amount: float) -> str: ...

    Runner.run_sync(Agent(name="SupportBot", tools=[issue_refund]), "Refund order A-1")
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union

try:
    from agents import FunctionTool, function_tool
    from agents.exceptions import AgentsException
    from agents.tracing import TracingProcessor, get_current_trace
    from agents.tracing.span_data import (
        AgentSpanData,
        FunctionSpanData,
        GenerationSpanData,
        GuardrailSpanData,
        HandoffSpanData,
        ResponseSpanData,
    )
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("agentops_hub.integrations.openai_agents needs: pip install 'agentops-hub[openai-agents]'") from e

from .._types import PolicyDecision
from ..errors import AgentPausedError, PolicyBlockedError
from ._common import ActionSpec, AnyAgentOps, OnBlocked, action_of, guard_async, jsonable, log, openai_usage
from ._common import parse_args as _parse_args
from ._common import text_of as _text_of
from .openai import _response_output_messages

if TYPE_CHECKING:
    from agents.tool_context import ToolContext
    from agents.tracing import Span, Trace

__all__ = [
    "AgentOpsTracingProcessor",
    "ToolBlockedError",
    "ToolPausedError",
    "guard_tool",
    "guarded_tool",
]


class ToolPausedError(AgentPausedError, AgentsException):
    """``AgentPausedError`` from a guarded tool, also an ``AgentsException`` so the Agents SDK re-raises it as
    it is (``except AgentPausedError`` around ``Runner.run`` catches it)."""

    def __init__(self, e: AgentPausedError) -> None:
        AgentPausedError.__init__(self, e.hold)
        self.run_data = None


class ToolBlockedError(PolicyBlockedError, AgentsException):
    """``PolicyBlockedError`` from a tool guarded with ``on_blocked="raise"``, raised out of ``Runner.run``."""

    def __init__(self, e: PolicyBlockedError) -> None:
        PolicyBlockedError.__init__(self, e.decision, str(e))
        self.run_data = None


@dataclass
class _TraceState:
    name: str
    metadata: Dict[str, Any]
    run_id: Optional[str] = None
    agent: Optional[str] = None
    own: bool = False
    error: Optional[Dict[str, Any]] = None
    output: Any = None
    started: Dict[str, float] = field(default_factory=dict)


#: trace id → its state, for every processor: ``guard_tool`` finds the run of the trace it runs in.
_traces: Dict[str, _TraceState] = {}
_lock = threading.Lock()


def _ms(span: Span[Any], started: Optional[float]) -> Optional[float]:
    try:
        if span.started_at and span.ended_at:
            a, b = datetime.fromisoformat(span.started_at), datetime.fromisoformat(span.ended_at)
            return round((b - a).total_seconds() * 1000, 3)
    except ValueError:
        pass
    return round((time.monotonic() - started) * 1000, 3) if started is not None else None


class AgentOpsTracingProcessor(TracingProcessor):
    """A ``TracingProcessor`` of the Agents SDK that records its traces on AgentOps Hub.

    Register it with ``agents.add_trace_processor(processor)`` (next to OpenAI's own exporter) or
    ``agents.set_trace_processors([processor])`` (instead of it). ``agent`` names the hub agent (default: the
    client's ``agent``, else the trace's first agent); ``include_content`` records prompts, answers and tool
    arguments and outputs (default True).

    Example::

        agentops = AgentOps(agent="SupportBot")
        agents.set_trace_processors([AgentOpsTracingProcessor(agentops)])
        with agentops.run("handle-ticket", input=ticket):   # optional: else each trace is a run
            Runner.run_sync(agent, ticket["text"])
    """

    def __init__(self, agentops: AnyAgentOps, *, agent: Optional[str] = None, include_content: bool = True) -> None:
        self.agentops = agentops
        self.agent = agent
        self.include_content = include_content

    # ── traces ─────────────────────────────────────────────────────────────────────────────────

    def on_trace_start(self, trace: Trace) -> None:
        try:
            exported = trace.export() or {}
            meta = {k: exported[k] for k in ("group_id", "metadata") if exported.get(k)}
            st = _TraceState(name=trace.name, metadata={"source": "openai-agents", "trace_id": trace.trace_id, **meta})
            current = self.agentops.current_run()
            if current is not None:  # inside agentops.run(): the trace joins that run
                st.run_id, st.agent = current.id, current.agent
            with _lock:
                _traces[trace.trace_id] = st
        except Exception:
            log.debug("AgentOpsTracingProcessor.on_trace_start failed", exc_info=True)

    def on_trace_end(self, trace: Trace) -> None:
        with _lock:
            st = _traces.pop(trace.trace_id, None)
        if st is None or not st.own or st.run_id is None:
            return
        try:
            self.agentops.record_run_end(
                st.run_id,
                status="failed" if st.error else "completed",
                output=st.output if self.include_content else None,
                error=st.error,
            )
        except Exception:
            log.debug("AgentOpsTracingProcessor.on_trace_end failed", exc_info=True)

    # ── spans ──────────────────────────────────────────────────────────────────────────────────

    def on_span_start(self, span: Span[Any]) -> None:
        try:
            st = _traces.get(span.trace_id)
            if st is None:
                return
            st.started[span.span_id] = time.monotonic()
            data = span.span_data
            if isinstance(data, AgentSpanData):
                if st.run_id is None:
                    who = self.agent or self.agentops.agent or data.name
                    run = self.agentops.record_run_start(st.name, agent=who, metadata=st.metadata)
                    st.run_id, st.agent, st.own = run.id, who, True
                elif span.parent_id is not None:
                    self._log(st, {"message": f"agent {data.name} takes over", "kind": "agent", "agent": data.name})
        except Exception:
            log.debug("AgentOpsTracingProcessor.on_span_start failed", exc_info=True)

    def on_span_end(self, span: Span[Any]) -> None:
        try:
            st = _traces.get(span.trace_id)
            if st is None or st.run_id is None:
                return
            started = st.started.pop(span.span_id, None)
            data = span.span_data
            err = span.error
            if isinstance(data, GenerationSpanData):
                self._generation(st, span, data, started)
            elif isinstance(data, ResponseSpanData):
                self._response(st, span, data, started)
            elif isinstance(data, FunctionSpanData):
                self._function(st, span, data, started)
            elif isinstance(data, HandoffSpanData):
                self._log(
                    st,
                    {
                        "message": f"handoff from {data.from_agent} to {data.to_agent}",
                        "kind": "handoff",
                        "from_agent": data.from_agent,
                        "to_agent": data.to_agent,
                    },
                )
            elif isinstance(data, GuardrailSpanData):
                level = "warn" if data.triggered else "info"
                self._log(
                    st,
                    {
                        "message": f"guardrail {data.name} {'triggered' if data.triggered else 'passed'}",
                        "kind": "guardrail",
                        "level": level,
                        "guardrail": data.name,
                        "triggered": data.triggered,
                    },
                )
            elif isinstance(data, AgentSpanData) and err is not None and st.error is None:
                st.error = {"name": "AgentError", "message": err.get("message"), "data": jsonable(err.get("data"))}
        except Exception:
            log.debug("AgentOpsTracingProcessor.on_span_end failed", exc_info=True)

    def shutdown(self) -> None:
        self.force_flush()

    def force_flush(self) -> None:
        try:
            flushed = self.agentops.flush(timeout=5)
            if hasattr(flushed, "close"):  # AsyncAgentOps.flush is a coroutine: no loop to await it here
                flushed.close()
        except Exception:
            log.debug("AgentOpsTracingProcessor.force_flush failed", exc_info=True)

    # ── the events ─────────────────────────────────────────────────────────────────────────────

    def _log(self, st: _TraceState, payload: Dict[str, Any]) -> None:
        assert st.run_id is not None
        self.agentops.record("log", {"source": "openai-agents", **payload}, run_id=st.run_id)

    def _llm(self, st: _TraceState, model: Optional[str], usage: Any, ms: Optional[float], **extra: Any) -> None:
        assert st.run_id is not None
        self.agentops.record_llm_call(
            str(model or "unknown"), provider="openai", duration_ms=ms, run_id=st.run_id, **openai_usage(usage), **extra
        )

    def _generation(self, st: _TraceState, span: Span[Any], d: GenerationSpanData, started: Optional[float]) -> None:
        extra: Dict[str, Any] = {}
        if self.include_content:
            extra["input_messages"] = [_message(m) for m in d.input or []]
            extra["output_messages"] = [_message(m) for m in d.output or []]
            st.output = _last_text(extra["output_messages"]) or st.output
        if span.error is not None:
            extra["error"] = jsonable(span.error)
        self._llm(st, d.model, d.usage or {}, _ms(span, started), **extra)

    def _response(self, st: _TraceState, span: Span[Any], d: ResponseSpanData, started: Optional[float]) -> None:
        r = d.response
        extra: Dict[str, Any] = {}
        if r is not None and getattr(r, "id", None):
            extra["response_id"] = r.id
        if self.include_content:
            extra["input_messages"] = _input_items(d.input)
            if r is not None and r.instructions:
                extra["input_messages"].insert(0, {"role": "system", "content": _text_of(r.instructions)})
            extra["output_messages"] = _response_output_messages(r)
            st.output = _last_text(extra["output_messages"]) or st.output
        if span.error is not None:
            extra["error"] = jsonable(span.error)
        usage = getattr(r, "usage", None) or d.usage or {}
        self._llm(st, getattr(r, "model", None), usage, _ms(span, started), **extra)

    def _function(self, st: _TraceState, span: Span[Any], d: FunctionSpanData, started: Optional[float]) -> None:
        assert st.run_id is not None
        err = span.error
        self.agentops.record_tool_call(
            d.name,
            args=_parse_args(d.input) if self.include_content else None,
            result=jsonable(d.output) if self.include_content and err is None else None,
            error={"message": err.get("message"), "data": jsonable(err.get("data"))} if err is not None else None,
            duration_ms=_ms(span, started),
            run_id=st.run_id,
        )


def _message(m: Any) -> Dict[str, Any]:
    """A chat message of a generation span as ``{role, content, tool_calls?, tool_call_id?}``."""
    out: Dict[str, Any] = {"role": str(m.get("role", "assistant")), "content": _text_of(m.get("content"))}
    calls = m.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                "id": c.get("id"),
                "name": (c.get("function") or {}).get("name"),
                "arguments": (c.get("function") or {}).get("arguments"),
            }
            for c in calls
        ]
    if m.get("tool_call_id"):
        out["tool_call_id"] = m["tool_call_id"]
    return out


def _input_items(items: Any) -> List[Dict[str, Any]]:
    """The input items of a Responses call (messages, function calls and their outputs) as messages."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    out: List[Dict[str, Any]] = []
    for item in items or []:
        it = item if isinstance(item, dict) else jsonable(item)
        if not isinstance(it, dict):
            continue
        t = it.get("type")
        if "role" in it:
            out.append({"role": str(it["role"]), "content": _text_of(it.get("content"))})
        elif t == "function_call":
            call = {"id": it.get("call_id"), "name": it.get("name"), "arguments": it.get("arguments")}
            out.append({"role": "assistant", "tool_calls": [call]})
        elif t == "function_call_output":
            out.append({"role": "tool", "tool_call_id": it.get("call_id"), "content": _text_of(it.get("output"))})
    return out


def _last_text(messages: List[Dict[str, Any]]) -> Any:
    texts = [m["content"] for m in messages if m.get("role") == "assistant" and m.get("content")]
    return {"text": texts[-1]} if texts else None


# ── guarded tools ────────────────────────────────────────────────────────────────────────────────


def guard_tool(
    tool: FunctionTool,
    agentops: AnyAgentOps,
    *,
    action: ActionSpec = None,
    on_blocked: OnBlocked = "return",
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
) -> FunctionTool:
    """A copy of ``tool`` that asks the hub before each call, with the action ``action`` names (default
    ``{"type": <tool name>, **arguments}``; a dict gets the arguments added; a function gets them and returns
    the action). The call waits for a person when a policy requires approval (``on_approval_required`` is
    called with the decision first), and is recorded as an ``external_action``. A refusal is the tool's
    answer to the model (``on_blocked="raise"``: a ``ToolBlockedError`` stops the run); a pause stops the
    run with ``ToolPausedError`` (an ``AgentPausedError``).

    Example::

        refund = guard_tool(function_tool(issue_refund), agentops, action=lambda a: {"type": "issue_refund", **a})
    """
    inner = tool.on_invoke_tool
    name = tool.name

    async def on_invoke_tool(ctx: ToolContext[Any], input_json: str) -> Any:
        args = _parse_args(input_json)
        act = action_of(action, name, args if isinstance(args, dict) else {"input": args})
        st = _trace_state()
        current = agentops.current_run()
        run_id = current.id if current is not None else (st.run_id if st is not None else None)
        agent = current.agent if current is not None else (st.agent if st is not None else None)

        async def call() -> Any:
            return await inner(ctx, input_json)

        try:
            return await guard_async(
                agentops, act, call, run_id, on_blocked, agent=agent, on_approval_required=on_approval_required
            )
        except AgentPausedError as e:
            raise ToolPausedError(e) from e
        except PolicyBlockedError as e:
            raise ToolBlockedError(e) from e

    guarded = copy.copy(tool)
    guarded.on_invoke_tool = on_invoke_tool
    return guarded


def guarded_tool(
    agentops: AnyAgentOps,
    *,
    action: ActionSpec = None,
    on_blocked: OnBlocked = "return",
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
    **function_tool_options: Any,
) -> Callable[[Callable[..., Any]], FunctionTool]:
    """``@function_tool`` with ``guard_tool``: a decorator of sync or async functions. Keyword arguments other
    than ``action`` and ``on_blocked`` go to ``function_tool`` (``name_override``, …).

    Example::

        @guarded_tool(agentops, action=lambda a: {"type": "issue_refund", "currency": "usd", **a})
        async def issue_refund(order_id: str, amount: float) -> str:
            \"\"\"Refund an order.\"\"\"
            return payments.refund(order_id, amount)
    """

    def decorate(fn: Callable[..., Any]) -> FunctionTool:
        tool: Union[FunctionTool, Any] = function_tool(fn, **function_tool_options)
        return guard_tool(
            tool, agentops, action=action, on_blocked=on_blocked, on_approval_required=on_approval_required
        )

    return decorate


def _trace_state() -> Optional[_TraceState]:
    trace = get_current_trace()
    return _traces.get(trace.trace_id) if trace is not None else None
