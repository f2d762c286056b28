"""What the sync and async clients share: configuration, the recording hot path, the current run, and every
operation that talks to the hub written once as a *flow*, a generator that yields the requests and waits it
needs. ``AgentOps`` drives a flow with blocking calls, ``AsyncAgentOps`` with awaits, so the two cannot drift.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import itertools
import logging
import math
import os
import random
import secrets
import string
import threading
import time
import urllib.parse
import weakref
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Generator,
    Generic,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from ._telemetry import Telemetry
from ._transport import Response, Settings, SyncTransport, retry_after, to_api_error
from ._types import (
    Action,
    Approval,
    ControlHold,
    ControlsState,
    EventType,
    HoldMode,
    PolicyDecision,
    PolicyFailure,
    PolicyReason,
    TelemetryStats,
)
from .errors import AgentOpsError, AgentPausedError, ApiError, PolicyBlockedError

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("agentops_hub")

__version__ = "0.1.0"

CONTROL_REASONS = frozenset({"kill_switch", "agent_paused", "category_paused"})
#: Without a timeout, an approval is awaited until it expires; before the hub has said when, at most this long
#: (the longest approval timeout a policy can set: 30 days).
MAX_APPROVAL_WAIT_S = 30 * 86_400.0
AGENT_INFO_TTL_S = 300.0


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Not given", where None is a value (a tool's result may be None).
UNSET: Any = _Unset()

T = TypeVar("T")
H = TypeVar("H", bound="_RunBase")
F = TypeVar("F", bound=Callable[..., Any])


def _env(name: str) -> Optional[str]:
    v = os.environ.get(name)
    return v if v else None


def _random_id(n: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def error_info(e: Any) -> Any:
    """An exception as ``{name, message}``; a string as ``{message}``; anything else as it is."""
    if isinstance(e, BaseException):
        return {"name": type(e).__name__, "message": str(e)}
    if isinstance(e, str):
        return {"message": e}
    return e


# ── flows: each hub operation once, as the requests it makes ─────────────────────────────────────


@dataclass
class Call:
    """A request a flow needs; the driver answers with a ``Response`` or throws an ``ApiError`` into it."""

    method: str
    path: str
    body: Any = None
    attempts: Optional[int] = None
    timeout: Optional[float] = None
    deadline: Optional[float] = None


@dataclass
class Sleep:
    seconds: float


Step = Union[Call, Sleep]
Flow = Generator[Step, Any, T]


def control_hold_of(d: PolicyDecision) -> Optional[ControlHold]:
    """The emergency control behind a BLOCK decision, if a control (not a policy) decided it."""
    if d.decision != "BLOCK":
        return None
    for r in d.reasons:
        if r.policy_id is None and r.name in CONTROL_REASONS:
            mode: HoldMode = "failsafe" if r.effect == "failsafe" else "block"
            return ControlHold(cast(Any, r.name), mode, r.message or r.name)
    return None


def _policy_names(d: PolicyDecision) -> str:
    names = [f'"{r.name}"' for r in d.reasons if r.policy_id is not None or r.name not in CONTROL_REASONS]
    return ", ".join(names) or "(no policy named)"


def _hold_from_controls(
    state: Mapping[str, Any], agent: Optional[str], info: Optional[Tuple[Optional[str], Sequence[str]]]
) -> Optional[ControlHold]:
    ks = state.get("kill_switch") or {}
    if ks.get("engaged"):
        why = f": {ks['reason']}" if ks.get("reason") else ""
        return ControlHold("kill_switch", "block", f"The kill switch is engaged{why}")
    mine = [p for p in state.get("paused_agents") or [] if agent and agent in (p.get("name"), p.get("agent_id"))]
    if mine:
        p = next((x for x in mine if x.get("mode") == "block"), mine[0])
        why = f": {p['reason']}" if p.get("reason") else ""
        pmode: HoldMode = "failsafe" if p.get("mode") == "failsafe" else "block"
        return ControlHold("agent_paused", pmode, f"Agent {p.get('name')} is paused{why}")
    if info is not None:
        type_, tags = info
        for c in state.get("paused_categories") or []:
            if c.get("category") == type_ or c.get("category") in tags:
                why = f": {c['reason']}" if c.get("reason") else ""
                return ControlHold(
                    "category_paused", "block", f'Agents of category "{c.get("category")}" are paused{why}'
                )
    return None


@dataclass
class GuardOptions:
    """How one ``guard`` asks and waits (see ``AgentOps.guard``)."""

    run_id: Optional[str] = None
    agent: Optional[str] = None
    context: Optional[Mapping[str, Any]] = None
    approval_timeout: Optional[float] = None
    on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None
    record_action: bool = True


@dataclass
class Allowed:
    """What ``guard`` learned before the action: run it (``skip`` None) or skip it (failsafe)."""

    decision: PolicyDecision
    run_id: Optional[str]
    approval_id: Optional[str] = None
    skip: Optional[ControlHold] = None
    started: float = field(default_factory=time.monotonic)


# ── the current run ──────────────────────────────────────────────────────────────────────────────

#: The run the code is executing in. One variable for all clients; each client sees only its own runs.
_current: ContextVar[Optional[_RunBase]] = ContextVar("agentops_hub_current_run", default=None)


class _RunBase:
    """A started run. Its methods carry the run id, so they work outside the ``with`` block too."""

    __slots__ = ("_client", "agent", "id", "output")

    def __init__(self, client: _BaseClient[Any], run_id: str, agent: str) -> None:
        self._client = client
        self.id = run_id
        self.agent = agent
        #: What the run produced; recorded as its output when a ``with`` block ends (decorators set it).
        self.output: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, agent={self.agent!r})"

    def record_tool_call(
        self,
        tool: str,
        *,
        args: Any = None,
        result: Any = UNSET,
        error: Any = None,
        duration_ms: Optional[float] = None,
    ) -> None:
        """``record_tool_call`` on this run. Example: ``run.record_tool_call("lookup_order", args={"id": "A-1"})``"""
        self._client.record_tool_call(
            tool, args=args, result=result, error=error, duration_ms=duration_ms, run_id=self.id
        )

    def record_llm_call(self, model: str, **usage: Any) -> None:
        """``record_llm_call`` on this run.

        Example: ``run.record_llm_call("gpt-4o-mini", input_tokens=812, output_tokens=96)``
        """
        self._client.record_llm_call(model, run_id=self.id, **usage)

    def record_external_action(self, action: Action, **fields: Any) -> None:
        """``record_external_action`` on this run. Example: ``run.record_external_action({"type": "send_email"})``"""
        self._client.record_external_action(action, run_id=self.id, **fields)

    def record(self, type: EventType, payload: Optional[Mapping[str, Any]] = None) -> None:
        """Any other event on this run. Example: ``run.record("log", {"message": "cache warm"})``"""
        self._client.record(type, payload, run_id=self.id)

    def end(self, *, status: Optional[str] = None, output: Any = None, error: Any = None) -> None:
        """Ends the run (``completed``, or ``failed`` with an error). Example: ``run.end(output={"rows": 10})``"""
        self._client.record_run_end(self.id, status=status, output=output, error=error)


class RunScope(Generic[H]):
    """What ``run()`` returns: a context manager (``with`` / ``async with``) and a decorator (sync and async).

    Entering records the run's start and makes it the current run (a ``contextvars`` variable, so threads
    started with ``contextvars.copy_context()`` and asyncio tasks created inside carry it too); leaving records
    its end: ``completed`` with ``run.output``, or ``failed`` with the exception, which propagates.
    """

    def __init__(self, client: _BaseClient[H], name: Optional[str], start: Dict[str, Any]) -> None:
        self._client = client
        self._name = name
        self._start = start
        self._entered: List[Tuple[H, Token[Optional[_RunBase]]]] = []

    def __enter__(self) -> H:
        h = self._client.record_run_start(self._name, **self._start)
        self._entered.append((h, _current.set(h)))
        return h

    def __exit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        h, token = self._entered.pop()
        # Left in another context than entered (a generator, a callback): nothing to undo there.
        with contextlib.suppress(ValueError):
            _current.reset(token)
        if e is None:
            self._client.record_run_end(h.id, status="completed", output=h.output)
        else:
            self._client.record_run_end(h.id, status="failed", error=error_info(e))

    async def __aenter__(self) -> H:
        return self.__enter__()

    async def __aexit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.__exit__(et, e, tb)

    def __call__(self, fn: F) -> F:
        name = self._name or getattr(fn, "__qualname__", None) or "run"
        client, start = self._client, self._start

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with RunScope(client, name, start) as h:
                    h.output = await fn(*args, **kwargs)
                    return h.output

            return cast(F, run_async)

        @functools.wraps(fn)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with RunScope(client, name, start) as h:
                h.output = fn(*args, **kwargs)
                return h.output

        return cast(F, run_sync)


# ── the client core ──────────────────────────────────────────────────────────────────────────────


class _BaseClient(Generic[H]):
    """Configuration, recording and flows; ``AgentOps`` and ``AsyncAgentOps`` add the driving."""

    def __init__(
        self,
        *,
        hub_url: Optional[str] = None,
        api_key: Optional[str] = None,
        agent: Optional[str] = None,
        policy_failure: PolicyFailure = "closed",
        failsafe: bool = False,
        flush_interval: float = 1.0,
        batch_size: int = 200,
        max_queue_size: int = 10_000,
        max_retries: int = 5,
        request_timeout: float = 10.0,
        policy_timeout: float = 15.0,
        approval_timeout: Optional[float] = None,
        controls_refresh: float = 30.0,
        headers: Optional[Mapping[str, str]] = None,
        flush_at_exit: bool = True,
        disabled: bool = False,
    ) -> None:
        self.hub_url = (hub_url or _env("AGENTOPS_HUB_URL") or "http://localhost:3000").rstrip("/")
        self.agent = agent or _env("AGENTOPS_AGENT")
        if policy_failure not in ("closed", "open"):
            raise ValueError(f"policy_failure must be 'closed' or 'open', not {policy_failure!r}")
        self.policy_failure: PolicyFailure = policy_failure
        self.failsafe = failsafe
        self.policy_timeout = policy_timeout
        self.approval_timeout = approval_timeout
        self.controls_refresh = controls_refresh
        self.disabled = disabled
        key = api_key or _env("AGENTOPS_API_KEY")
        h = {"accept": "application/json", "user-agent": f"agentops-hub-python/{__version__}", **(headers or {})}
        if key:
            h["authorization"] = f"Bearer {key}"
        self._settings = Settings(self.hub_url, h, request_timeout, max_retries)
        self._sync = SyncTransport(self._settings)
        self._id_prefix = f"{_random_id(8)}-"
        self._seq = itertools.count()
        self._active: Dict[str, Tuple[str, str]] = {}  # run id → (agent, started_at)
        self._hold: Optional[ControlHold] = None
        self._controls_at = 0.0
        self._controls_lock = threading.Lock()
        self._agent_info: Optional[Tuple[float, Optional[str], List[str]]] = None
        self._warned: set[str] = set()
        self._exiting = False
        self._telemetry = Telemetry(
            id_prefix=self._id_prefix,
            transport=self._sync,
            flush_interval=flush_interval,
            batch_size=batch_size,
            max_queue_size=max_queue_size,
            max_retries=max_retries,
            after_round=self._after_round,
        )
        if flush_at_exit and not disabled:
            _at_exit.add(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hub_url={self.hub_url!r}, agent={self.agent!r})"

    def _handle(self, run_id: str, agent: str) -> H:
        raise NotImplementedError

    # ── telemetry (never raises, never waits) ──────────────────────────────────────────────────

    def record_run_start(
        self,
        name: Optional[str] = None,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        input: Any = None,
        external_ref: Optional[str] = None,
        environment: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        tags: Optional[Sequence[str]] = None,
        parent_run_id: Optional[str] = None,
    ) -> H:
        """Starts a run and returns its handle; end it with ``record_run_end(run.id)`` or ``run.end()``.

        Example::

            run = agentops.record_run_start("nightly-sync", input={"since": "2026-01-01"})
            ...
            run.end(output={"synced": 120})
        """
        rid = run_id or f"run_{self._id_prefix}{next(self._seq):x}"
        who = agent or self.agent or name or "agent"
        h = self._handle(rid, who)
        if self.disabled:
            return h
        try:
            now = time.time()
            started_at = _iso(now)
            self._active[rid] = (who, started_at)
            meta = {"name": name, **(metadata or {})} if name else (dict(metadata) if metadata else None)
            report = {
                "run_id": rid,
                "agent": who,
                "status": "running",
                "started_at": started_at,
                "input": input,
                "external_ref": external_ref,
                "environment": environment,
                "parent_run_id": parent_run_id,
                "tags": list(tags) if tags is not None else None,
                "metadata": meta,
            }
            self._telemetry.push_run({k: v for k, v in report.items() if v is not None})
            self._push("run_started", rid, {"name": name} if name else {}, who, now)
        except Exception:  # never raise into the agent
            log.debug("record_run_start failed", exc_info=True)
        return h

    def record_run_end(
        self, run_id: str, *, status: Optional[str] = None, output: Any = None, error: Any = None
    ) -> None:
        """Ends a run: ``completed``, unless an ``error`` is given or ``status="failed"``.

        Example::

            agentops.record_run_end(run.id, output={"refunded": True})
        """
        if self.disabled:
            return
        try:
            info = self._active.pop(run_id, None)
            st = status or ("failed" if error is not None else "completed")
            now = time.time()
            ended_at = _iso(now)
            who = info[0] if info else (self.agent or "agent")
            err = error_info(error) if error is not None else None
            self._push(
                "run_failed" if st == "failed" else "run_completed", run_id, {"error": err} if err else {}, who, now
            )
            report = {
                "run_id": run_id,
                "agent": who,
                "status": st,
                "started_at": info[1] if info else ended_at,
                "ended_at": ended_at,
                "output": output,
                "error": err,
            }
            self._telemetry.push_run({k: v for k, v in report.items() if v is not None})
        except Exception:
            log.debug("record_run_end failed", exc_info=True)

    def record_tool_call(
        self,
        tool: str,
        *,
        args: Any = None,
        result: Any = UNSET,
        error: Any = None,
        duration_ms: Optional[float] = None,
        run_id: Optional[str] = None,
    ) -> None:
        """Records a tool call (``tool_called``, and ``tool_result`` when a result, error or duration is given).

        Example::

            agentops.record_tool_call("lookup_order", args={"order_id": "A-1"}, result={"total": 250})
        """
        rid = run_id or self._current_id()
        if rid is None or self.disabled:
            self._missing_run("record_tool_call", rid)
            return
        self._push("tool_called", rid, {"tool": tool, "args": args} if args is not None else {"tool": tool})
        if result is not UNSET or error is not None or duration_ms is not None:
            p: Dict[str, Any] = {"tool": tool}
            if result is not UNSET:
                p["result"] = result
            if error is not None:
                p["error"] = error_info(error)
            if duration_ms is not None:
                p["duration_ms"] = duration_ms
            self._push("tool_result", rid, p)

    def record_llm_call(
        self,
        model: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        provider: Optional[str] = None,
        cached_input_tokens: Optional[int] = None,
        cache_write_tokens: Optional[int] = None,
        reasoning_tokens: Optional[int] = None,
        cost_usd: Optional[float] = None,
        duration_ms: Optional[float] = None,
        run_id: Optional[str] = None,
        **extra: Any,
    ) -> None:
        """Records an LLM call; the hub prices it from its model table when ``cost_usd`` is not given.

        The entry point for integrations (OpenAI, LangChain, …): they call it with the usage the provider
        answered. Extra keyword arguments are kept in the event's payload.

        Example::

            agentops.record_llm_call("gpt-4o-mini", provider="openai", input_tokens=812, output_tokens=96)
        """
        rid = run_id or self._current_id()
        if rid is None or self.disabled:
            self._missing_run("record_llm_call", rid)
            return
        p: Dict[str, Any] = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens, **extra}
        for k, v in (
            ("provider", provider),
            ("cached_input_tokens", cached_input_tokens),
            ("cache_write_tokens", cache_write_tokens),
            ("reasoning_tokens", reasoning_tokens),
            ("cost_usd", cost_usd),
            ("duration_ms", duration_ms),
        ):
            if v is not None:
                p[k] = v
        self._push("llm_call", rid, p)

    def record_external_action(
        self,
        action: Action,
        *,
        status: str = "done",
        result: Any = UNSET,
        error: Any = None,
        decision_id: Optional[str] = None,
        approval_id: Optional[str] = None,
        duration_ms: Optional[float] = None,
        run_id: Optional[str] = None,
    ) -> None:
        """Records an action with effects outside the agent (a refund, an email). ``guard`` records it for you.

        Example::

            agentops.record_external_action({"type": "send_email", "to": "dana@example.test"}, status="done")
        """
        rid = run_id or self._current_id()
        if rid is None or self.disabled:
            self._missing_run("record_external_action", rid)
            return
        p: Dict[str, Any] = {"action": dict(action), "status": status}
        if result is not UNSET:
            p["result"] = result
        if error is not None:
            p["error"] = error_info(error)
        for k, v in (("decision_id", decision_id), ("approval_id", approval_id), ("duration_ms", duration_ms)):
            if v is not None:
                p[k] = v
        self._push("external_action", rid, p)

    def record(
        self, type: EventType, payload: Optional[Mapping[str, Any]] = None, *, run_id: Optional[str] = None
    ) -> None:
        """Records any event type on a run (``log``, ``tool_result``…): the current run unless ``run_id`` is given.

        Example::

            agentops.record("log", {"message": "cache warm"})
        """
        rid = run_id or self._current_id()
        if rid is None or self.disabled:
            self._missing_run("record", rid)
            return
        self._push(type, rid, dict(payload) if payload else {})

    def run(self, name: Optional[str] = None, **start: Any) -> RunScope[H]:
        """One run, as a context manager or a decorator, sync or async.

        Records the start (visible at once as ``running``), then ``completed`` with ``run.output`` (a
        decorated function's return value), or ``failed`` with the exception, which propagates. Inside,
        records and policy checks carry the run id through ``contextvars``. ``start`` takes the fields of
        ``record_run_start``: ``input``, ``external_ref``, ``environment``, ``metadata``, ``tags``, ``run_id``.

        Example::

            with agentops.run("answer-ticket", input=ticket) as run:
                run.output = draft_reply(ticket)

            @agentops.run("triage")
            async def triage(ticket): ...
        """
        return RunScope(self, name, start)

    def current_run(self) -> Optional[H]:
        """The run the code is executing in (inside ``run()``), if any.

        Example::

            run = agentops.current_run()
            if run: print(run.id)
        """
        h = _current.get()
        return cast(H, h) if h is not None and h._client is self else None

    def stats(self) -> TelemetryStats:
        """Telemetry counters: queued now, sent, dropped, rejected by the hub, failed attempts.

        Example::

            assert agentops.stats().dropped == 0
        """
        return self._telemetry.stats()

    def control_hold(self) -> Optional[ControlHold]:
        """What stops this agent now, as last learned from the hub (decisions and ``GET /v1/controls``), or None.

        Example::

            if agentops.control_hold(): print("paused:", agentops.control_hold().message)
        """
        return self._hold

    # ── internals ──────────────────────────────────────────────────────────────────────────────

    def _push(
        self, type_: str, run_id: str, payload: Dict[str, Any], agent: Optional[str] = None, at: Optional[float] = None
    ) -> None:
        """The hot path: one tuple onto the buffer (the id and ISO timestamp are made when it is sent)."""
        try:
            if agent is None:
                a = self._active.get(run_id)
                agent = a[0] if a is not None else self.agent
            self._telemetry.push((next(self._seq), run_id, agent, type_, at or time.time(), payload))
        except Exception:
            log.debug("recording failed", exc_info=True)

    def _current_id(self) -> Optional[str]:
        h = _current.get()
        return h.id if h is not None and h._client is self else None

    def _missing_run(self, method: str, run_id: Optional[str]) -> None:
        if run_id is None and not self.disabled and method not in self._warned:
            self._warned.add(method)
            log.warning("AgentOps: %s outside a run; pass run_id= or call it inside agentops.run()", method)

    def _no_decision(self, why: str) -> PolicyDecision:
        is_open = self.policy_failure == "open"
        reason = PolicyReason(None, "hub_unreachable", "fail_open" if is_open else "fail_closed", why)
        return PolicyDecision("ALLOW" if is_open else "BLOCK", "", (reason,), unavailable=True)

    # ── flows ──────────────────────────────────────────────────────────────────────────────────

    def _check_flow(
        self,
        action: Action,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        approval_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Flow[PolicyDecision]:
        if self.disabled:
            return PolicyDecision("ALLOW", "")
        cur = _current.get()
        mine = cur if cur is not None and cur._client is self else None
        who = agent or (mine.agent if mine else None) or self.agent
        if not who:
            return self._no_decision("no agent named: pass agent= or set AGENTOPS_AGENT")
        if not isinstance(action, Mapping) or not action.get("type"):
            return self._no_decision('the action needs a "type"')
        body: Dict[str, Any] = {
            "agent": who,
            "action": dict(action),
            # A retried call must not create a second approval: the hub answers a repeated key with the first decision.
            "idempotency_key": idempotency_key or f"sdk-{self._id_prefix}{_random_id(12)}",
        }
        rid = run_id or (mine.id if mine else None)
        for k, v in (("run_id", rid), ("context", context), ("approval_id", approval_id)):
            if v is not None:
                body[k] = v
        try:
            res: Response = yield Call(
                "POST", "/v1/policy/evaluate", body, attempts=3, deadline=time.monotonic() + self.policy_timeout
            )
        except ApiError as e:
            return self._no_decision(e.message)
        if res.status == 200 and isinstance(res.body, dict) and res.body.get("decision"):
            d = PolicyDecision.from_wire(res.body)
            self._hold = control_hold_of(d)
            return d
        err = to_api_error(res)
        if err.code == "agent_paused":
            self._hold = ControlHold("agent_paused", "block", err.message)
            return PolicyDecision("BLOCK", "", (PolicyReason(None, "agent_paused", "block", err.message),))
        return self._no_decision(f"the hub answered {res.status} {err.code}: {err.message}")

    def _wait_flow(self, approval_id: str, timeout: Optional[float]) -> Flow[Approval]:
        deadline = time.monotonic() + (timeout if timeout is not None else MAX_APPROVAL_WAIT_S)
        last: Optional[Approval] = None
        failures = 0
        path = f"/v1/approvals/{urllib.parse.quote(approval_id, safe='')}"
        while True:
            left = deadline - time.monotonic()
            if last is not None and left <= 0:
                return last
            wait_s = max(0, min(60, math.ceil(left)))
            pause: Optional[float] = None
            try:
                res: Response = yield Call("GET", f"{path}?wait={wait_s}", attempts=1, timeout=wait_s + 15.0)
                if 400 <= res.status < 500 and res.status != 429:
                    raise to_api_error(res)
                if res.status == 200 and isinstance(res.body, dict):
                    failures = 0
                    last = Approval.from_wire(res.body)
                    if last.status != "pending":
                        return last
                    # Without a timeout, wait until the approval expires (the hub then answers `expired`).
                    if timeout is None and last.expires_at:
                        expires = _parse_iso(last.expires_at)
                        if expires is not None:
                            deadline = time.monotonic() + (expires - time.time()) + 5.0
                    continue
                pause = retry_after(res.headers)
            except ApiError as e:
                if 400 <= e.status < 500 and e.status != 429:
                    raise
            failures += 1
            if last is None and time.monotonic() >= deadline:
                raise ApiError("unreachable", 0, f"approval {approval_id}: the hub did not answer in time")
            jitter = random.random() * min(10.0, 0.25 * 2**failures)
            yield Sleep(min(max(0.0, deadline - time.monotonic()), pause if pause is not None else jitter))

    def _decide_flow(self, action: Action, o: GuardOptions) -> Flow[Allowed]:
        """``guard`` up to the action: ask, wait for a person if needed, ask again; then allow, skip or raise."""
        rid = o.run_id or self._current_id()
        d: PolicyDecision = yield from self._check_flow(action, run_id=rid, agent=o.agent, context=o.context)
        approval_id: Optional[str] = None
        if d.decision == "REQUIRE_APPROVAL" and d.approval_id:
            approval_id = d.approval_id
            if o.on_approval_required is not None:
                try:
                    o.on_approval_required(d)
                except Exception:  # a callback's error must not change the decision
                    log.warning("AgentOps: on_approval_required raised", exc_info=True)
            timeout = o.approval_timeout if o.approval_timeout is not None else self.approval_timeout
            approval: Optional[Approval]
            try:
                approval = yield from self._wait_flow(approval_id, timeout)
            except AgentOpsError:
                approval = None
            if approval is None or approval.status != "approved":
                status = approval.status if approval is not None else "unanswered"
                why = "no decision in time" if status == "pending" else status
                raise PolicyBlockedError(d, f"{action.get('type')} was not approved ({why}): {_policy_names(d)}")
            d = yield from self._check_flow(
                action, run_id=rid, agent=o.agent, context=o.context, approval_id=approval_id
            )
        if d.decision == "ALLOW":
            return Allowed(d, rid, approval_id)
        hold = control_hold_of(d) or (self._hold if d.unavailable else None)
        if hold is not None:
            if hold.mode == "failsafe" or self.failsafe:
                if rid is not None:
                    p: Dict[str, Any] = {
                        "message": f"skipped {action.get('type')}: {hold.message}",
                        "log_only": True,
                        "action": dict(action),
                        "hold": {"reason": hold.reason, "mode": hold.mode, "message": hold.message},
                    }
                    if d.decision_id:
                        p["decision_id"] = d.decision_id
                    self._push("log", rid, p)
                return Allowed(d, rid, approval_id, skip=hold)
            raise AgentPausedError(hold)
        if d.unavailable:
            why = d.reasons[0].message if d.reasons and d.reasons[0].message else "hub unreachable"
            raise PolicyBlockedError(d, f"{action.get('type')} not performed: no policy decision ({why})")
        raise PolicyBlockedError(d, f"{action.get('type')} blocked by policy {_policy_names(d)}")

    def _record_guarded(self, action: Action, a: Allowed, o: GuardOptions, error: Optional[BaseException]) -> None:
        if a.run_id is None or not o.record_action:
            return
        self.record_external_action(
            action,
            status="failed" if error is not None else "done",
            error=error,
            decision_id=a.decision.decision_id or None,
            approval_id=a.approval_id,
            duration_ms=round((time.monotonic() - a.started) * 1000, 3),
            run_id=a.run_id,
        )

    def _controls_flow(self) -> Flow[Optional[ControlsState]]:
        if self.disabled:
            return None
        try:
            res: Response = yield Call("GET", "/v1/controls", attempts=2)
        except ApiError:
            return None
        if res.status != 200 or not isinstance(res.body, dict):
            return None
        state: ControlsState = res.body
        self._controls_at = time.monotonic()
        info: Optional[Tuple[Optional[str], Sequence[str]]] = None
        if state.get("paused_categories") and self.agent:
            cached = self._agent_info
            if cached is not None and time.monotonic() - cached[0] < AGENT_INFO_TTL_S:
                info = (cached[1], cached[2])
            else:
                try:
                    r: Response = yield Call("GET", f"/v1/agents/{urllib.parse.quote(self.agent, safe='')}", attempts=1)
                    if r.status == 200 and isinstance(r.body, dict):
                        self._agent_info = (time.monotonic(), r.body.get("type"), list(r.body.get("tags") or []))
                        info = (self._agent_info[1], self._agent_info[2])
                except ApiError:
                    pass
        self._hold = _hold_from_controls(state, self.agent, info)
        return state

    def _drive_sync(self, flow: Flow[T]) -> T:
        """Runs a flow with blocking calls (the background thread's way, and ``AgentOps``')."""
        value: Any = None
        exc: Optional[ApiError] = None
        while True:
            try:
                step = flow.throw(exc) if exc is not None else flow.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            value, exc = None, None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                continue
            try:
                value = self._sync.call(
                    step.method,
                    step.path,
                    body=step.body,
                    attempts=step.attempts,
                    timeout=step.timeout,
                    deadline=step.deadline,
                )
            except ApiError as e:
                exc = e

    def _after_round(self) -> None:
        """After a send round, on the background thread: re-read the controls when they are due."""
        if self._exiting or self.controls_refresh <= 0 or self.disabled:
            return
        if time.monotonic() - self._controls_at < self.controls_refresh:
            return
        if not self._controls_lock.acquire(blocking=False):
            return
        try:
            self._controls_at = time.monotonic()
            self._drive_sync(self._controls_flow())
        finally:
            self._controls_lock.release()

    def _flush_at_exit(self) -> None:
        if self._telemetry.size == 0:
            return
        self._exiting = True
        # At exit, one round of a few quick attempts: a dead hub must not hold the process for long.
        self._telemetry.flush(attempts=3, deadline=time.monotonic() + 5.0)
        if self._telemetry.size:
            log.warning("AgentOps: %d telemetry item(s) could not be sent before exit", self._telemetry.size)

    def _close(self) -> None:
        self._telemetry.close()
        _at_exit.discard(self)


def _parse_iso(s: str) -> Optional[float]:
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


_at_exit: weakref.WeakSet[_BaseClient[Any]] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for c in list(_at_exit):
        try:
            c._flush_at_exit()
        except Exception:
            log.debug("flush at exit failed", exc_info=True)
