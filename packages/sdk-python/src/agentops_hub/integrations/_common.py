"""What the integrations share: the client type they accept, usage mapping, message shapes, and the guard of a
tool call that answers the model with a refusal instead of raising when a policy blocks it."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Literal, Mapping, Optional, TypeVar, Union

from .._sync import AgentOps
from .._types import Action, PolicyDecision
from ..errors import ActionSkipped, PolicyBlockedError

if TYPE_CHECKING:
    from .._async import AsyncAgentOps

log = logging.getLogger("agentops_hub")

#: Either client: the integrations accept both.
AnyAgentOps = Union["AgentOps", "AsyncAgentOps"]

#: What a guarded tool does when a policy refuses the call: answer the model with ``refusal_message`` (the
#: default, so the agent can tell the user), or raise ``PolicyBlockedError`` out of the agent run.
OnBlocked = Literal["return", "raise"]

#: How a guarded tool names its action: a fixed action (the tool's arguments are added), a function of the
#: arguments, or None (``{"type": <tool name>, **arguments}``).
ActionSpec = Union[Action, Callable[[Dict[str, Any]], Action], None]

R = TypeVar("R")


def action_of(spec: ActionSpec, tool_name: str, args: Mapping[str, Any]) -> Dict[str, Any]:
    """The action a tool call asks about."""
    if callable(spec):
        return dict(spec(dict(args)))
    if spec is None:
        return {"type": tool_name, **args}
    return {**args, **spec}


def refusal_message(e: BaseException) -> str:
    """What the model reads when the hub refused a tool call."""
    if isinstance(e, ActionSkipped):
        return f"Not done: the agent runs in failsafe mode ({e.hold.message}). Tell the user it could not be done."
    return f"Refused by AgentOps Hub: {e}. Do not retry; tell the user this action is not allowed."


def _refuse(e: BaseException, on_blocked: OnBlocked) -> str:
    if on_blocked == "raise" and isinstance(e, PolicyBlockedError):
        raise e
    log.info("AgentOps: tool call refused: %s", e)
    return refusal_message(e)


def guard_sync(
    agentops: AgentOps,
    action: Action,
    fn: Callable[[], R],
    run_id: Optional[str],
    on_blocked: OnBlocked,
    agent: Optional[str] = None,
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
) -> Union[R, str]:
    """``agentops.guard(action, fn)`` for a tool: a refusal (policy, failsafe skip) becomes the tool's answer;
    a pause (``AgentPausedError``) propagates and stops the agent."""
    try:
        with agentops.guard(action, run_id=run_id, agent=agent, on_approval_required=on_approval_required):
            return fn()
    except (PolicyBlockedError, ActionSkipped) as e:
        return _refuse(e, on_blocked)


async def guard_async(
    agentops: AnyAgentOps,
    action: Action,
    fn: Callable[[], Awaitable[R]],
    run_id: Optional[str],
    on_blocked: OnBlocked,
    agent: Optional[str] = None,
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
) -> Union[R, str]:
    """``guard_sync`` for async tools, with either client (the blocking one waits on a worker thread)."""
    try:
        if isinstance(agentops, AgentOps):
            async with agentops.guard(action, run_id=run_id, agent=agent, on_approval_required=on_approval_required):
                return await fn()
        async with agentops.guard(action, run_id=run_id, agent=agent, on_approval_required=on_approval_required):
            return await fn()
    except (PolicyBlockedError, ActionSkipped) as e:
        return _refuse(e, on_blocked)


def is_async_client(agentops: AnyAgentOps) -> bool:
    return not isinstance(agentops, AgentOps)


# ── usage and messages ───────────────────────────────────────────────────────────────────────────────


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def openai_usage(usage: Any) -> Dict[str, Any]:
    """An OpenAI usage object (chat ``prompt_tokens``… or responses ``input_tokens``…, an object or a dict) as
    ``record_llm_call`` keywords: input, output, cached and reasoning tokens."""
    inp = _get(usage, "prompt_tokens")
    out = _get(usage, "completion_tokens")
    if inp is None:
        inp = _get(usage, "input_tokens")
    if out is None:
        out = _get(usage, "output_tokens")
    cached = _get(_get(usage, "prompt_tokens_details"), "cached_tokens") or _get(
        _get(usage, "input_tokens_details"), "cached_tokens"
    )
    reasoning = _get(_get(usage, "completion_tokens_details"), "reasoning_tokens") or _get(
        _get(usage, "output_tokens_details"), "reasoning_tokens"
    )
    kw: Dict[str, Any] = {"input_tokens": int(inp or 0), "output_tokens": int(out or 0)}
    if cached:
        kw["cached_input_tokens"] = int(cached)
    if reasoning:
        kw["reasoning_tokens"] = int(reasoning)
    return kw


def text_of(content: Any) -> Optional[str]:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if content is None:
        return None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [t for t in (_get(p, "text") if not isinstance(p, str) else p for p in content) if isinstance(t, str)]
        return "\n".join(texts) if texts else None
    return str(content)


def parse_args(raw: Any) -> Any:
    """A tool's arguments as sent (a JSON string, usually) parsed when they are JSON."""
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
    return raw


def jsonable(v: Any) -> Any:
    """A value the hub can store (JSON): pydantic models dumped, other objects as their string."""
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    dump = getattr(v, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump())
        except Exception:
            return str(v)
    return str(v)
