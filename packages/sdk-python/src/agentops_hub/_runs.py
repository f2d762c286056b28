"""The current run: a ``contextvars`` variable, the run handle's shared methods, and ``run()`` as a context
manager and a decorator (sync and async)."""

from __future__ import annotations

import contextlib
import functools
import inspect
import secrets
import string
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, Callable, Dict, Generic, List, Mapping, Optional, Tuple, TypeVar, cast

from ._types import Action, EventType

if TYPE_CHECKING:
    from types import TracebackType

    from ._base import _BaseClient

H = TypeVar("H", bound="_RunBase")
F = TypeVar("F", bound=Callable[..., Any])


def _random_id(n: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Not given", where None is a value (a tool's result may be None).
UNSET: Any = _Unset()


def error_info(e: Any) -> Any:
    """An exception as ``{name, message}``; a string as ``{message}``; anything else as it is."""
    if isinstance(e, BaseException):
        return {"name": type(e).__name__, "message": str(e)}
    if isinstance(e, str):
        return {"message": e}
    return e


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
