"""LangChain and LangGraph (``pip install langchain-core``; LangGraph uses the same callbacks).

``AgentOpsCallbackHandler`` records what LangChain reports through its callbacks: the outermost chain or
graph (or a model or tool called on its own) is a run, which joins the current ``agentops.run()`` when there is
one; each model call is an ``llm_call`` (model, provider, tokens from ``usage_metadata`` or the provider's
``llm_output``, duration, and the messages with ``include_content``); each tool call a ``tool_called`` +
``tool_result`` pair. The run ends ``completed`` with the chain's output, or ``failed`` with its error.

``guard_tool`` (for a ``@tool`` / ``StructuredTool``) and ``guarded`` (a decorator under ``@tool``) make a tool
ask the hub before it acts: waiting for a person when a policy requires approval, answering the model with
the refusal when a policy blocks it (``on_blocked="raise"`` raises instead), raising ``AgentPausedError``
(which stops the graph) when the agent is paused.

Example::

    from agentops_hub.integrations.langchain import AgentOpsCallbackHandler, guard_tool

    handler = AgentOpsCallbackHandler(agentops)
    graph.invoke({"messages": [("user", "Refund A-1")]}, config={"callbacks": [handler]})
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, TypeVar, cast
from uuid import UUID

try:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.runnables.config import var_child_runnable_config
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("agentops_hub.integrations.langchain needs: pip install 'agentops-hub[langchain]'") from e

from .._types import PolicyDecision
from ._common import (
    ActionSpec,
    AnyAgentOps,
    OnBlocked,
    action_of,
    guard_async,
    guard_sync,
    is_async_client,
    jsonable,
    log,
    openai_usage,
    text_of,
)

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.outputs import LLMResult
    from langchain_core.tools import BaseTool

__all__ = ["AgentOpsCallbackHandler", "guard_tool", "guarded"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound="BaseTool")


@dataclass
class _Node:
    """One LangChain run (chain, model or tool call) as the handler follows it."""

    hub_run: str
    agent: Optional[str]
    started: float
    own_run: bool = False  # the root of a hub run this handler started
    name: str = ""
    model: Optional[str] = None
    provider: Optional[str] = None
    input_messages: Optional[List[Dict[str, Any]]] = None
    tool_input: Any = None


class AgentOpsCallbackHandler(BaseCallbackHandler):
    """A LangChain callback handler that records runs, model calls and tool calls on AgentOps Hub.

    Pass it in ``config={"callbacks": [handler]}`` of ``invoke``/``ainvoke``/``stream`` (chains, agents and
    LangGraph graphs), or to a model's ``callbacks=``. ``agent`` names the hub agent (default: the client's
    ``agent``, else the outermost chain's name); ``include_content`` records inputs, outputs, prompts and
    answers (default True).

    Example::

        handler = AgentOpsCallbackHandler(agentops)
        with agentops.run("answer-ticket", input=ticket):   # optional: else the outermost chain is the run
            graph.invoke({"messages": [("user", ticket["text"])]}, config={"callbacks": [handler]})
    """

    run_inline = True  # the callbacks run in the caller's context, in order

    def __init__(self, agentops: AnyAgentOps, *, agent: Optional[str] = None, include_content: bool = True) -> None:
        super().__init__()
        self.agentops = agentops
        self.agent = agent
        self.include_content = include_content
        self._nodes: Dict[UUID, _Node] = {}
        self._lock = threading.Lock()

    # ── runs ───────────────────────────────────────────────────────────────────────────────────

    def hub_run_of(self, lc_run_id: Optional[UUID]) -> Optional[str]:
        """The hub run id of a LangChain run this handler follows (``guard_tool`` uses it)."""
        node = self._nodes.get(lc_run_id) if lc_run_id is not None else None
        return node.hub_run if node is not None else None

    def agent_of(self, lc_run_id: Optional[UUID]) -> Optional[str]:
        node = self._nodes.get(lc_run_id) if lc_run_id is not None else None
        return node.agent if node is not None else None

    def _start(
        self, run_id: UUID, parent_run_id: Optional[UUID], name: str, inputs: Any, tags: Optional[Sequence[str]]
    ) -> _Node:
        with self._lock:
            parent = self._nodes.get(parent_run_id) if parent_run_id is not None else None
        if parent is not None:
            node = _Node(parent.hub_run, parent.agent, time.monotonic(), name=name)
        else:
            current = self.agentops.current_run()
            if current is not None:
                node = _Node(current.id, current.agent, time.monotonic(), name=name)
            else:
                who = self.agent or self.agentops.agent or name
                run = self.agentops.record_run_start(
                    name,
                    agent=who,
                    input=jsonable(inputs) if self.include_content else None,
                    metadata={"source": "langchain"},
                    tags=[t for t in tags or [] if isinstance(t, str)][:20] or None,
                )
                node = _Node(run.id, who, time.monotonic(), own_run=True, name=name)
        with self._lock:
            self._nodes[run_id] = node
        return node

    def _end(self, run_id: UUID) -> Optional[_Node]:
        with self._lock:
            return self._nodes.pop(run_id, None)

    def _end_run(self, node: Optional[_Node], output: Any = None, error: Optional[BaseException] = None) -> None:
        if node is None or not node.own_run:
            return
        if error is not None:
            self.agentops.record_run_end(node.hub_run, status="failed", error=error)
        else:
            out = jsonable(output) if self.include_content else None
            self.agentops.record_run_end(node.hub_run, status="completed", output=out)

    @staticmethod
    def _name(serialized: Optional[Dict[str, Any]], kwargs: Dict[str, Any], default: str) -> str:
        name = kwargs.get("name")
        if isinstance(name, str) and name:
            return name
        s = serialized or {}
        if isinstance(s.get("name"), str):
            return str(s["name"])
        ids = s.get("id")
        return str(ids[-1]) if isinstance(ids, list) and ids else default

    # ── chains (and LangGraph graphs and nodes) ───────────────────────────────────────────────

    def on_chain_start(
        self,
        serialized: Dict[str, Any],
        inputs: Dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: Optional[UUID] = None,
        tags: Optional[List[str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._start(run_id, parent_run_id, self._name(serialized, kwargs, "chain"), inputs, tags)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_chain_start failed", exc_info=True)

    def on_chain_end(
        self, outputs: Dict[str, Any], *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any
    ) -> None:
        try:
            self._end_run(self._end(run_id), output=outputs)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_chain_end failed", exc_info=True)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any
    ) -> None:
        try:
            self._end_run(self._end(run_id), error=error)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_chain_error failed", exc_info=True)

    # ── models ─────────────────────────────────────────────────────────────────────────────────

    def on_chat_model_start(
        self,
        serialized: Dict[str, Any],
        messages: List[List[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: Optional[UUID] = None,
        tags: Optional[List[str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        try:
            msgs = [_message(m) for batch in messages for m in batch]
            self._model_start(serialized, msgs, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_chat_model_start failed", exc_info=True)

    def on_llm_start(
        self,
        serialized: Dict[str, Any],
        prompts: List[str],
        *,
        run_id: UUID,
        parent_run_id: Optional[UUID] = None,
        tags: Optional[List[str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        try:
            msgs = [{"role": "user", "content": p} for p in prompts]
            self._model_start(serialized, msgs, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_llm_start failed", exc_info=True)

    def _model_start(
        self,
        serialized: Optional[Dict[str, Any]],
        msgs: List[Dict[str, Any]],
        run_id: UUID,
        parent_run_id: Optional[UUID],
        tags: Optional[List[str]],
        metadata: Optional[Dict[str, Any]],
        kwargs: Dict[str, Any],
    ) -> None:
        name = self._name(serialized, kwargs, "llm")
        node = self._start(run_id, parent_run_id, name, {"messages": msgs}, tags)
        params = kwargs.get("invocation_params") or {}
        meta = metadata or {}
        node.model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
        node.provider = meta.get("ls_provider")
        node.input_messages = msgs

    def on_llm_end(
        self, response: LLMResult, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any
    ) -> None:
        node = self._end(run_id)
        if node is None:
            return
        try:
            llm_output = response.llm_output or {}
            gens = [g for batch in response.generations for g in batch]
            message = getattr(gens[0], "message", None) if gens else None
            meta = getattr(message, "response_metadata", None) or {}
            model = meta.get("model_name") or meta.get("model") or llm_output.get("model_name") or node.model
            usage = _usage(getattr(message, "usage_metadata", None), llm_output)
            extra: Dict[str, Any] = {}
            output: List[Dict[str, Any]] = []
            if self.include_content:
                extra["input_messages"] = node.input_messages or []
                output = [
                    _message(g.message) if hasattr(g, "message") else {"role": "assistant", "content": g.text}
                    for g in gens
                ]
                extra["output_messages"] = output
            self.agentops.record_llm_call(
                str(model or "unknown"),
                provider=node.provider or meta.get("model_provider") or None,
                duration_ms=round((time.monotonic() - node.started) * 1000, 3),
                run_id=node.hub_run,
                **usage,
                **extra,
            )
            self._end_run(node, output={"messages": output} if output else None)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_llm_end failed", exc_info=True)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any
    ) -> None:
        node = self._end(run_id)
        if node is None:
            return
        try:
            self.agentops.record(
                "log",
                {
                    "message": f"model call failed: {error}",
                    "level": "error",
                    "model": node.model,
                    "source": "langchain",
                },
                run_id=node.hub_run,
            )
            self._end_run(node, error=error)
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_llm_error failed", exc_info=True)

    # ── tools ──────────────────────────────────────────────────────────────────────────────────

    def on_tool_start(
        self,
        serialized: Dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: Optional[UUID] = None,
        tags: Optional[List[str]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        inputs: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        try:
            name = self._name(serialized, kwargs, "tool")
            args = inputs if inputs is not None else input_str
            node = self._start(run_id, parent_run_id, name, args, tags)
            node.tool_input = jsonable(args) if self.include_content else None
        except Exception:
            log.debug("AgentOpsCallbackHandler.on_tool_start failed", exc_info=True)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._tool_done(run_id, output, None)

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any
    ) -> None:
        self._tool_done(run_id, None, error)

    def _tool_done(self, run_id: UUID, output: Any, error: Optional[BaseException]) -> None:
        node = self._end(run_id)
        if node is None:
            return
        try:
            content = getattr(output, "content", output)  # a ToolMessage: its content
            self.agentops.record_tool_call(
                node.name,
                args=node.tool_input,
                result=jsonable(content) if self.include_content and error is None else None,
                error=error,
                duration_ms=round((time.monotonic() - node.started) * 1000, 3),
                run_id=node.hub_run,
            )
            self._end_run(node, output=content, error=error)
        except Exception:
            log.debug("AgentOpsCallbackHandler tool callback failed", exc_info=True)


def _message(m: Any) -> Dict[str, Any]:
    """A LangChain message as ``{role, content, tool_calls?, tool_call_id?}``."""
    role = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}.get(m.type, m.type)
    out: Dict[str, Any] = {"role": role, "content": text_of(m.content)}
    calls = getattr(m, "tool_calls", None)
    if calls:
        out["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": jsonable(c.get("args"))} for c in calls
        ]
    if getattr(m, "tool_call_id", None):
        out["tool_call_id"] = m.tool_call_id
    return out


def _usage(usage_metadata: Any, llm_output: Dict[str, Any]) -> Dict[str, Any]:
    """Tokens from a message's ``usage_metadata`` (LangChain's standard), else the provider's ``llm_output``."""
    if usage_metadata:
        kw: Dict[str, Any] = {
            "input_tokens": int(usage_metadata.get("input_tokens") or 0),
            "output_tokens": int(usage_metadata.get("output_tokens") or 0),
        }
        cached = (usage_metadata.get("input_token_details") or {}).get("cache_read")
        written = (usage_metadata.get("input_token_details") or {}).get("cache_creation")
        reasoning = (usage_metadata.get("output_token_details") or {}).get("reasoning")
        if cached:
            kw["cached_input_tokens"] = int(cached)
        if written:
            kw["cache_write_tokens"] = int(written)
        if reasoning:
            kw["reasoning_tokens"] = int(reasoning)
        return kw
    return openai_usage(llm_output.get("token_usage") or llm_output.get("usage") or {})


# ── guarded tools ────────────────────────────────────────────────────────────────────────────────


def _where() -> tuple[Optional[str], Optional[str]]:
    """The hub run (and agent) of the tool call running now: the LangChain run that called it, as the handler
    follows it, else the current ``agentops.run()`` (the guard falls back to it by itself)."""
    config = var_child_runnable_config.get() or {}
    manager = config.get("callbacks")
    parent = getattr(manager, "parent_run_id", None)
    for h in getattr(manager, "handlers", None) or []:
        if isinstance(h, AgentOpsCallbackHandler):
            rid = h.hub_run_of(parent)
            if rid is not None:
                return rid, h.agent_of(parent)
    return None, None


def guarded(
    agentops: AnyAgentOps,
    *,
    action: ActionSpec = None,
    on_blocked: OnBlocked = "return",
    name: Optional[str] = None,
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
) -> Callable[[F], F]:
    """A decorator (under ``@tool``) that makes a function ask the hub before each call, with the action
    ``action`` names (default ``{"type": <function name>, **arguments}``; a dict gets the arguments added; a
    function gets them and returns the action). Sync and async functions; a sync function waits for an
    approval on its thread. A refusal is the tool's answer; a pause raises ``AgentPausedError``.

    Example::

        @tool
        @guarded(agentops, action=lambda a: {"type": "issue_refund", **a})
        def issue_refund(order_id: str, amount: float) -> str:
            \"\"\"Refund an order.\"\"\"
            return payments.refund(order_id, amount)
    """

    def decorate(fn: F) -> F:
        tool_name = name or fn.__name__
        params = inspect.signature(fn).parameters

        def act(args: tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
            named = dict(zip(params, args))
            named.update({k: v for k, v in kwargs.items() if k not in ("config", "run_manager", "callbacks")})
            return action_of(action, tool_name, jsonable(named))

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                run_id, agent = _where()
                return await guard_async(
                    agentops,
                    act(args, kwargs),
                    lambda: fn(*args, **kwargs),
                    run_id,
                    on_blocked,
                    agent=agent,
                    on_approval_required=on_approval_required,
                )

            return cast(F, guarded_async)

        @functools.wraps(fn)
        def guarded_sync(*args: Any, **kwargs: Any) -> Any:
            run_id, agent = _where()
            if is_async_client(agentops):
                raise TypeError("a sync tool is guarded with AgentOps; AsyncAgentOps guards async tools")
            from .._sync import AgentOps

            client = cast(AgentOps, agentops)
            return guard_sync(
                client,
                act(args, kwargs),
                lambda: fn(*args, **kwargs),
                run_id,
                on_blocked,
                agent=agent,
                on_approval_required=on_approval_required,
            )

        return cast(F, guarded_sync)

    return decorate


def guard_tool(
    tool: T,
    agentops: AnyAgentOps,
    *,
    action: ActionSpec = None,
    on_blocked: OnBlocked = "return",
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
) -> T:
    """A copy of a function tool (``@tool``, ``StructuredTool``, ``Tool``) whose function and coroutine are
    ``guarded``: each call asks the hub first. Other ``BaseTool`` subclasses: decorate their function with
    ``guarded`` instead.

    Example::

        refund = guard_tool(issue_refund, agentops, action=lambda a: {"type": "issue_refund", **a})
        agent = create_react_agent(model, [lookup_order, refund])
    """
    func = getattr(tool, "func", None)
    coroutine = getattr(tool, "coroutine", None)
    if func is None and coroutine is None:
        raise TypeError(
            f"guard_tool needs a function tool (@tool, StructuredTool); decorate {tool.name}'s code with guarded()"
        )
    wrap = guarded(
        agentops, action=action, on_blocked=on_blocked, name=tool.name, on_approval_required=on_approval_required
    )
    update: Dict[str, Any] = {}
    if func is not None:
        update["func"] = wrap(func)
    if coroutine is not None:
        update["coroutine"] = wrap(coroutine)
    return tool.model_copy(update=update)
