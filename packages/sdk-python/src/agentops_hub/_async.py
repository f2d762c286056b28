"""``AsyncAgentOps``: the asyncio twin of ``AgentOps``, with the same names. What asks the hub is awaited;
recording stays a plain call (it never waits), so it is the same as on the sync client."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Coroutine,
    List,
    Mapping,
    Optional,
    TypeVar,
    cast,
    overload,
)

from ._base import _BaseClient
from ._flows import Allowed, Flow, GuardOptions, Sleep, T
from ._runs import _RunBase
from ._transport import AsyncTransport, Backend
from ._types import Action, Approval, ControlsState, PolicyDecision, PolicyFailure
from .errors import ActionSkipped, ApiError

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import ParamSpec

    P = ParamSpec("P")

R = TypeVar("R")


class AsyncRun(_RunBase):
    """A started run of ``AsyncAgentOps``; its ``check_policy`` and ``guard`` are awaited.

    Example::

        async with agentops.run("refund-ticket") as run:
            await run.guard({"type": "issue_refund", "amount": 250}, refund)
    """

    __slots__ = ()

    async def check_policy(self, action: Action, **opts: Any) -> PolicyDecision:
        """``AsyncAgentOps.check_policy`` for this run. Example: ``await run.check_policy({"type": "send_email"})``"""
        client = cast(AsyncAgentOps, self._client)
        return await client.check_policy(action, **{"agent": self.agent, **opts, "run_id": self.id})

    def guard(self, action: Action, fn: Optional[Callable[[], Any]] = None, **opts: Any) -> Any:
        """``AsyncAgentOps.guard`` for this run. Example: ``await run.guard({"type": "send_email"}, send)``"""
        client = cast(AsyncAgentOps, self._client)
        return client.guard(action, fn, **{"agent": self.agent, **opts, "run_id": self.id})


class AsyncGuard:
    """What ``AsyncAgentOps.guard(action)`` returns without a function: ``async with`` and a decorator of
    async functions. Same semantics as ``Guard``: a refusal raises, failsafe skips (``ActionSkipped`` for a
    block, None for a decorated call)."""

    def __init__(self, client: AsyncAgentOps, action: Action, opts: GuardOptions) -> None:
        self._client = client
        self._action = action
        self._opts = opts
        self._entered: List[Allowed] = []

    async def __aenter__(self) -> PolicyDecision:
        a = await self._client._drive(self._client._decide_flow(self._action, self._opts))
        if a.skip is not None:
            raise ActionSkipped(a.skip)
        a.started = time.monotonic()
        self._entered.append(a)
        return a.decision

    async def __aexit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self._client._record_guarded(self._action, self._entered.pop(), self._opts, e)

    def __enter__(self) -> None:
        raise TypeError("AsyncAgentOps.guard(...) is used with `async with`; use AgentOps for `with`")

    def __exit__(self, *exc: object) -> None:  # pragma: no cover - __enter__ always raises
        return None

    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, Optional[R]]]:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError("AsyncAgentOps.guard decorates async functions; use AgentOps.guard for sync ones")
        client, action, opts = self._client, self._action, self._opts

        @functools.wraps(fn)
        async def guarded(*args: Any, **kwargs: Any) -> Optional[R]:
            out: Optional[R] = await client._guard_call(action, lambda: fn(*args, **kwargs), opts)
            return out

        return guarded


class AsyncAgentOps(_BaseClient[AsyncRun]):
    """The asyncio client: ``AgentOps`` with awaitable ``check_policy``, ``wait_for_approval``, ``guard``,
    ``refresh_controls``, ``flush`` and ``shutdown``. Same options, plus ``http_backend``: ``"auto"`` (httpx
    when installed: ``pip install 'agentops-hub[httpx]'``), ``"httpx"`` or ``"urllib"`` (the standard
    library on worker threads).

    Example::

        from agentops_hub import AsyncAgentOps

        agentops = AsyncAgentOps(agent="SupportBot")

        @agentops.run("refund-ticket")
        async def handle(ticket):
            await agentops.guard({"type": "issue_refund", "amount": 250}, lambda: payments.refund("A-1", 250))
    """

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
        http_backend: Backend = "auto",
    ) -> None:
        super().__init__(
            hub_url=hub_url,
            api_key=api_key,
            agent=agent,
            policy_failure=policy_failure,
            failsafe=failsafe,
            flush_interval=flush_interval,
            batch_size=batch_size,
            max_queue_size=max_queue_size,
            max_retries=max_retries,
            request_timeout=request_timeout,
            policy_timeout=policy_timeout,
            approval_timeout=approval_timeout,
            controls_refresh=controls_refresh,
            headers=headers,
            flush_at_exit=flush_at_exit,
            disabled=disabled,
        )
        self._async = AsyncTransport(self._settings, self._sync, http_backend)

    @property
    def http_backend(self) -> str:
        """The transport in use: ``"httpx"`` or ``"urllib"``."""
        return self._async.backend

    def _handle(self, run_id: str, agent: str) -> AsyncRun:
        return AsyncRun(self, run_id, agent)

    async def __aenter__(self) -> AsyncAgentOps:
        return self

    async def __aexit__(
        self, et: Optional[type[BaseException]], e: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        await self.shutdown()

    async def _drive(self, flow: Flow[T]) -> T:
        """Runs a flow with awaited calls."""
        value: Any = None
        exc: Optional[ApiError] = None
        while True:
            try:
                step = flow.throw(exc) if exc is not None else flow.send(value)
            except StopIteration as stop:
                return cast(T, stop.value)
            value, exc = None, None
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                continue
            try:
                value = await self._async.call(
                    step.method,
                    step.path,
                    body=step.body,
                    attempts=step.attempts,
                    timeout=step.timeout,
                    deadline=step.deadline,
                )
            except ApiError as e:
                exc = e

    async def check_policy(
        self,
        action: Action,
        *,
        run_id: Optional[str] = None,
        agent: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        approval_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> PolicyDecision:
        """The async twin of ``AgentOps.check_policy``: never raises, fails closed by default.

        Example::

            d = await agentops.check_policy({"type": "send_email", "discount": 15})
        """
        return await self._drive(
            self._check_flow(
                action,
                run_id=run_id,
                agent=agent,
                context=context,
                approval_id=approval_id,
                idempotency_key=idempotency_key,
            )
        )

    async def wait_for_approval(self, approval_id: str, *, timeout: Optional[float] = None) -> Approval:
        """The async twin of ``AgentOps.wait_for_approval`` (long-poll ``GET /v1/approvals/{id}?wait=N``).

        Example::

            approval = await agentops.wait_for_approval(d.approval_id, timeout=600)
        """
        return await self._drive(self._wait_flow(approval_id, timeout))

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
    ) -> AsyncGuard: ...

    @overload
    def guard(
        self,
        action: Action,
        fn: Callable[[], Awaitable[R]],
        *,
        run_id: Optional[str] = ...,
        agent: Optional[str] = ...,
        context: Optional[Mapping[str, Any]] = ...,
        approval_timeout: Optional[float] = ...,
        on_approval_required: Optional[Callable[[PolicyDecision], Any]] = ...,
        record_action: bool = ...,
    ) -> Coroutine[Any, Any, Optional[R]]: ...

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
    ) -> Coroutine[Any, Any, Optional[R]]: ...

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
        """The async twin of ``AgentOps.guard``: ``await guard(action, fn)`` (``fn`` may return an awaitable),
        ``async with guard(action) as decision:``, or ``@guard(action)`` on an async function.

        Example::

            await agentops.guard({"type": "issue_refund", "amount": 250}, lambda: payments.refund("A-1", 250))

            @agentops.guard({"type": "send_email"})
            async def send_email(to: str) -> None: ...
        """
        opts = GuardOptions(run_id, agent, context, approval_timeout, on_approval_required, record_action)
        if fn is None:
            return AsyncGuard(self, action, opts)
        return self._guard_call(action, fn, opts)

    async def _guard_call(self, action: Action, fn: Callable[[], Any], opts: GuardOptions) -> Any:
        a = await self._drive(self._decide_flow(action, opts))
        if a.skip is not None:
            return None
        a.started = time.monotonic()
        try:
            out = fn()
            if inspect.isawaitable(out):
                out = await out
        except BaseException as e:
            self._record_guarded(action, a, opts, e)
            raise
        self._record_guarded(action, a, opts, None)
        return out

    async def refresh_controls(self) -> Optional[ControlsState]:
        """The async twin of ``AgentOps.refresh_controls``.

        Example::

            state = await agentops.refresh_controls()
        """
        return await self._drive(self._controls_flow())

    async def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends everything buffered now (on a worker thread); True when all of it was sent. Never raises.

        Example::

            await agentops.flush(timeout=5)
        """
        if self.disabled:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return await asyncio.to_thread(self._telemetry.flush, deadline=deadline)
        except Exception:
            return False

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Flushes (at most ``timeout`` seconds), stops the background thread and closes HTTP connections.

        Example::

            await agentops.shutdown()
        """
        await self.flush(timeout)
        self._close()
        await self._async.aclose()
