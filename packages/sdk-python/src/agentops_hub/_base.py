"""What the sync and async clients share: configuration from arguments then the environment, the recording
hot path (one tuple onto the telemetry buffer), ``run()``, and the exit hook. The operations that ask the hub
are flows (``_flows.py``) that ``AgentOps`` drives with blocking calls and ``AsyncAgentOps`` with awaits."""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
import time
import weakref
from datetime import datetime, timezone
from typing import Any, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, cast

from ._flows import Allowed, FlowsMixin, GuardOptions
from ._runs import UNSET, H, RunScope, _current, _random_id, error_info
from ._telemetry import Telemetry
from ._transport import Settings, SyncTransport
from ._types import Action, ControlHold, EventType, PolicyFailure, TelemetryStats

log = logging.getLogger("agentops_hub")

__version__ = "0.1.0"


def _env(name: str) -> Optional[str]:
    v = os.environ.get(name)
    return v if v else None


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


# ── the client core ──────────────────────────────────────────────────────────────────────────────


class _BaseClient(FlowsMixin, Generic[H]):
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


_at_exit: weakref.WeakSet[_BaseClient[Any]] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for c in list(_at_exit):
        try:
            c._flush_at_exit()
        except Exception:
            log.debug("flush at exit failed", exc_info=True)
