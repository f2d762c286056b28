"""``AgentOps``: the blocking client. Recording never blocks (a background thread sends); ``check_policy``,
``wait_for_approval`` and ``guard`` block the calling thread while they ask the hub, as an agent wants."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, List, Mapping, Optional, TypeVar, cast, overload

from ._base import _BaseClient
from ._flows import Allowed, GuardOptions
from ._runs import _RunBase
from ._types import Action, Approval, ControlsState, PolicyDecision
from .errors import ActionSkipped

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import ParamSpec

    P = ParamSpec("P")

R = TypeVar("R")


class Run(_RunBase):
    """A started run of ``AgentOps``: records, policy checks and guards that carry its id.

    Example::

        with agentops.run("refund-ticket") as run:
            run.record_tool_call("lookup_order", args={"order_id": "A-1"}, result=order)
            run.guard({"type": "issue_refund", "amount": 250}, lambda: payments.refund("A-1", 250))
    """

    __slots__ = ()

    def check_policy(self, action: Action, **opts: Any) -> PolicyDecision:
        """``AgentOps.check_policy`` for this run. Example: ``run.check_policy({"type": "send_email"})``"""
        client = cast(AgentOps, self._client)
        return client.check_policy(action, **{"agent": self.agent, **opts, "run_id": self.id})

    def guard(self, action: Action, fn: Optional[Callable[[], R]] = None, **opts: Any) -> Any:
        """``AgentOps.guard`` for this run. Example: ``run.guard({"type": "send_email"}, send)``"""
        client = cast(AgentOps, self._client)
        return client.guard(action, fn, **{"agent": self.agent, **opts, "run_id": self.id})


class Guard:
    """What ``AgentOps.guard(action)`` returns without a function: a context manager and a decorator.

    Entering asks the hub (waiting for a person when a policy requires approval) and returns the decision;
    a refusal raises ``PolicyBlockedError``, a pause ``AgentPausedError``, and in failsafe mode
    ``ActionSkipped`` (a ``with`` block cannot skip itself). Leaving records the action (``done`` or
    ``failed``). As a decorator it guards each call; a skipped call returns None. Async functions and
    ``async with`` work too (the blocking check runs on a worker thread).
    """

    def __init__(self, client: AgentOps, action: Action, opts: GuardOptions) -> None:
        self._client = client
        self._action = action
        self._opts = opts
        self._entered: List[Allowed] = []

    def __enter__(self) -> PolicyDecision:
        a = self._client._drive_sync(self._client._decide_flow(self._action, self._opts))
        if a.skip is not None:
            raise ActionSkipped(a.skip)
        a.started = time.monotonic()
        self._entered.append(a)
        return a.decision

    def __exit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self._client._record_guarded(self._action, self._entered.pop(), self._opts, e)

    async def __aenter__(self) -> PolicyDecision:
        # contextvars are copied to the worker thread: the current run is seen there.
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.__exit__(et, e, tb)

    @overload
    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Optional[R]]]: ...

    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, Optional[R]]: ...

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        client, action, opts = self._client, self._action, self._opts

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                a = await asyncio.to_thread(client._drive_sync, client._decide_flow(action, opts))
                if a.skip is not None:
                    return None
                a.started = time.monotonic()
                try:
                    out = await fn(*args, **kwargs)
                except BaseException as e:
                    client._record_guarded(action, a, opts, e)
                    raise
                client._record_guarded(action, a, opts, None)
                return out

            return guarded_async

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return client.guard(action, functools.partial(fn, *args, **kwargs), **_opts_kwargs(opts))

        return guarded


def _opts_kwargs(o: GuardOptions) -> dict[str, Any]:
    return {
        "run_id": o.run_id,
        "agent": o.agent,
        "context": o.context,
        "approval_timeout": o.approval_timeout,
        "on_approval_required": o.on_approval_required,
        "record_action": o.record_action,
    }


class AgentOps(_BaseClient[Run]):
    """The AgentOps Hub client (blocking). Options fall back to ``AGENTOPS_HUB_URL``, ``AGENTOPS_API_KEY`` and
    ``AGENTOPS_AGENT``.

    Telemetry calls (``record_*``, ``run``) never raise and never wait: they append to a buffer that a
    background thread sends in batches, with retries, and flushes at exit. ``check_policy`` always answers
    (failing closed by default when the hub is unreachable); ``guard`` runs the action only when it is allowed.

    Options (seconds for times): ``hub_url``, ``api_key``, ``agent``, ``policy_failure`` (``"closed"``),
    ``failsafe`` (False), ``flush_interval`` (1.0), ``batch_size`` (200, at most 1000), ``max_queue_size``
    (10,000), ``max_retries`` (5), ``request_timeout`` (10.0), ``policy_timeout`` (15.0), ``approval_timeout``
    (None: until the approval expires), ``controls_refresh`` (30.0; 0 turns it off), ``headers``,
    ``flush_at_exit`` (True), ``disabled`` (False: no network, ``check_policy`` answers ALLOW).

    Example::

        from agentops_hub import AgentOps

        agentops = AgentOps(agent="SupportBot")  # AGENTOPS_HUB_URL, AGENTOPS_API_KEY
        with agentops.run("refund-ticket"):
            agentops.guard({"type": "issue_refund", "amount": 250}, lambda: payments.refund("A-1", 250))
    """

    def _handle(self, run_id: str, agent: str) -> Run:
        return Run(self, run_id, agent)

    def __enter__(self) -> AgentOps:
        return self

    def __exit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.shutdown()

    def check_policy(
        self,
        action: Action,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        approval_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> PolicyDecision:
        """Asks the policy engine about an action (``POST /v1/policy/evaluate``). Never raises: when the hub
        gives no decision the answer is BLOCK (``policy_failure="closed"``, the default) or ALLOW (``"open"``),
        with ``unavailable=True``. Inside a run it carries the run id, so the decision shows on the replay.

        Example::

            d = agentops.check_policy({"type": "send_email", "discount": 15})
            if d.allowed:
                send()
        """
        return self._drive_sync(
            self._check_flow(
                action,
                run_id=run_id,
                agent=agent,
                context=context,
                approval_id=approval_id,
                idempotency_key=idempotency_key,
            )
        )

    def wait_for_approval(self, approval_id: str, *, timeout: Optional[float] = None) -> Approval:
        """Long-polls ``GET /v1/approvals/{id}?wait=N`` until a person decides or ``timeout`` seconds pass;
        returns the approval (still ``pending`` after a timeout). Network errors are retried until then; an
        unknown id raises ``ApiError`` (``not_found``).

        Example::

            approval = agentops.wait_for_approval(d.approval_id, timeout=600)
            if approval.status == "approved": ...
        """
        return self._drive_sync(self._wait_flow(approval_id, timeout))

    @overload
    def guard(
        self,
        action: Action,
        fn: None = None,
        *,
        run_id: Optional[str] = ...,
        agent: Optional[str] = ...,
        context: Optional[Mapping[str, Any]] = ...,
        approval_timeout: Optional[float] = ...,
        on_approval_required: Optional[Callable[[PolicyDecision], Any]] = ...,
        record_action: bool = ...,
    ) -> Guard: ...

    @overload
    def guard(
        self,
        action: Action,
        fn: Callable[[], R],
        *,
        run_id: Optional[str] = ...,
        agent: Optional[str] = ...,
        context: Optional[Mapping[str, Any]] = ...,
        approval_timeout: Optional[float] = ...,
        on_approval_required: Optional[Callable[[PolicyDecision], Any]] = ...,
        record_action: bool = ...,
    ) -> Optional[R]: ...

    def guard(
        self,
        action: Action,
        fn: Optional[Callable[[], Any]] = None,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        approval_timeout: Optional[float] = None,
        on_approval_required: Optional[Callable[[PolicyDecision], Any]] = None,
        record_action: bool = True,
    ) -> Any:
        """Runs an action only when the policy allows it, waiting for a person when a policy asks for approval,
        and records it as an ``external_action`` (``done`` or ``failed``, with its duration).

        Raises ``AgentPausedError`` when the kill switch is on or the agent (or its category) is paused, and
        ``PolicyBlockedError`` when the action is refused (a policy, a rejected or expired approval, or no
        decision: policy checks fail closed). In failsafe mode (a failsafe pause, or ``failsafe=True``) the
        action is recorded as log-only and skipped: the call returns None.

        Three forms: ``guard(action, fn)`` calls ``fn()`` and returns its result; ``with guard(action) as
        decision:`` guards a block; ``@guard(action)`` guards each call of a function (sync or async).

        Example::

            refund = agentops.guard({"type": "issue_refund", "order_id": "A-1", "amount": 250},
                                    lambda: payments.refund("A-1", 250))

            @agentops.guard({"type": "send_email"})
            def send_email(to: str, body: str) -> None: ...
        """
        opts = GuardOptions(run_id, agent, context, approval_timeout, on_approval_required, record_action)
        if fn is None:
            return Guard(self, action, opts)
        a = self._drive_sync(self._decide_flow(action, opts))
        if a.skip is not None:
            return None
        a.started = time.monotonic()
        try:
            out = fn()
        except BaseException as e:
            self._record_guarded(action, a, opts, e)
            raise
        self._record_guarded(action, a, opts, None)
        return out

    def refresh_controls(self) -> Optional[ControlsState]:
        """Reads ``GET /v1/controls`` now and updates ``control_hold()``; None when the hub is unreachable.

        Example::

            state = agentops.refresh_controls()  # {"kill_switch": {...}, "paused_agents": [...], ...} or None
        """
        return self._drive_sync(self._controls_flow())

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends everything buffered now, waiting at most ``timeout`` seconds. True when all of it was sent;
        False when the hub could not take it yet (it stays buffered and is retried). Never raises.

        Example::

            agentops.flush(timeout=5)
        """
        if self.disabled:
            return True
        try:
            return self._telemetry.flush(deadline=None if timeout is None else time.monotonic() + timeout)
        except Exception:
            return False

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flushes (at most ``timeout`` seconds) and stops the background thread. Optional: the SDK flushes at
        interpreter exit by itself; call it before ``os._exit()`` or when dropping a client.

        Example::

            agentops.shutdown()
        """
        self.flush(timeout)
        self._close()
