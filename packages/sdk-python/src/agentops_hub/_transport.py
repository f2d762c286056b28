"""One HTTP call to the hub, with a timeout, and retries with exponential backoff and full jitter for what can
succeed later (no answer, 408, 425, 429 with its ``Retry-After``, 5xx). Other answers are returned as they are.

The sync transport is the standard library's ``urllib.request``; the async one runs it on a worker thread, or
uses ``httpx.AsyncClient`` when the ``httpx`` extra is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http.client
import json
import logging
import math
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Literal, Mapping, Optional, Union

from .errors import ApiError

log = logging.getLogger("agentops_hub")

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The longest ``Retry-After`` taken from the hub; longer ones are capped.
MAX_RETRY_AFTER_S = 60.0
USER_AGENT = "agentops-hub-python"

Body = Union[bytes, None]
Backend = Literal["auto", "urllib", "httpx"]


@dataclass
class Response:
    """A hub answer: status, parsed JSON body (or text), lower-cased headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


def backoff(attempt: int, base: float, cap: float) -> float:
    """Full jitter: a random wait between 0 and min(cap, base * 2**attempt) seconds."""
    return float(random.random() * min(cap, base * 2.0**attempt))


def retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        s = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        s = when.timestamp() - time.time()
    if not math.isfinite(s) or s <= 0:
        return None
    return min(s, MAX_RETRY_AFTER_S)


def _jsonable(value: Any, seen: set[int]) -> Any:
    """What JSON cannot hold as it is (cycles, NaN, sets, objects) made into something it can."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in seen:
            return "[circular]"
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                return {str(k): _jsonable(v, seen) for k, v in value.items()}
            return [_jsonable(v, seen) for v in value]
        finally:
            seen.discard(id(value))
    return _jsonable(_default(value), seen)


def _default(o: Any) -> Any:
    """``json.dumps`` fallback: models, dataclasses, dates, bytes, exceptions, else ``str(o)``."""
    dump = getattr(o, "model_dump", None)  # pydantic v2 (OpenAI's and Anthropic's types)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            pass
    if hasattr(o, "__dataclass_fields__") and not isinstance(o, type):
        import dataclasses

        return dataclasses.asdict(o)
    iso = getattr(o, "isoformat", None)
    if callable(iso):
        return iso()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, BaseException):
        return {"name": type(o).__name__, "message": str(o)}
    if isinstance(o, (bytes, bytearray)):
        return o.decode("utf-8", "replace")
    return str(o)


def encode(body: Any) -> bytes:
    """JSON for the wire. Never raises for odd values: cycles become "[circular]", NaN null, objects strings."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default).encode()
    except (ValueError, TypeError, RecursionError):
        return json.dumps(_jsonable(body, set()), separators=(",", ":"), ensure_ascii=False).encode()


def _parse(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def problem_message(res: Response) -> str:
    b = res.body
    if isinstance(b, dict):
        return str(b.get("detail") or b.get("title") or f"HTTP {res.status}")
    return f"HTTP {res.status}"


def to_api_error(res: Response) -> ApiError:
    """A problem answer as an ``ApiError`` carrying the hub's ``code``."""
    b = res.body if isinstance(res.body, dict) else None
    code = str(b.get("code") or "internal") if b else "internal"
    return ApiError(code, res.status, problem_message(res), b, retry_after(res.headers))


@dataclass
class Settings:
    hub_url: str
    headers: Dict[str, str]
    timeout: float
    max_retries: int
    backoff_base: float = 0.25
    backoff_cap: float = 10.0


class _Retry:
    """The retry rule both transports share: what to wait before the next attempt, or None to stop."""

    def __init__(self, s: Settings, attempts: Optional[int], deadline: Optional[float]) -> None:
        self.s = s
        self.attempts = max(1, attempts if attempts is not None else s.max_retries)
        self.deadline = deadline
        self.last_error: Optional[ApiError] = None

    def timeout(self, timeout: Optional[float]) -> float:
        t = timeout if timeout is not None else self.s.timeout
        if self.deadline is not None:  # one attempt never outlives the call's deadline
            t = max(0.05, min(t, self.deadline - time.monotonic()))
        return t

    def after_response(self, attempt: int, res: Response) -> Optional[float]:
        """None: return ``res``. A number: retry after that many seconds."""
        if res.status not in RETRYABLE or attempt == self.attempts - 1:
            return None
        self.last_error = to_api_error(res)
        ra = retry_after(res.headers)
        return self._wait(attempt, ra)

    def after_failure(self, attempt: int, e: BaseException) -> Optional[float]:
        self.last_error = ApiError("unreachable", 0, f"AgentOps hub at {self.s.hub_url} unreachable: {_describe(e)}")
        if attempt == self.attempts - 1:
            return None
        return self._wait(attempt, None)

    def _wait(self, attempt: int, ra: Optional[float]) -> Optional[float]:
        # One wait is at most the backoff cap, as in the TypeScript SDK; the telemetry thread holds its next
        # round until the whole Retry-After has passed (ApiError.retry_after).
        wait = (
            min(ra, self.s.backoff_cap) if ra is not None else backoff(attempt, self.s.backoff_base, self.s.backoff_cap)
        )
        if self.deadline is not None and time.monotonic() + wait > self.deadline:
            return None
        return wait

    def error(self) -> ApiError:
        return self.last_error or ApiError("unreachable", 0, f"AgentOps hub at {self.s.hub_url} unreachable")


def _describe(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        return str(e.reason)
    if isinstance(e, TimeoutError):
        return "timed out"
    return str(e) or type(e).__name__


def _request_headers(s: Settings, body: Body) -> Dict[str, str]:
    if body is None:
        return s.headers
    return {**s.headers, "content-type": "application/json"}


class SyncTransport:
    """Blocking calls with ``urllib.request`` (honours ``HTTPS_PROXY`` and the system's CA store)."""

    def __init__(self, s: Settings) -> None:
        self.s = s

    def once(self, method: str, path: str, body: Body, timeout: float) -> Response:
        req = urllib.request.Request(
            self.s.hub_url + path, data=body, method=method, headers=_request_headers(self.s, body)
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, _parse(r.read()), {k.lower(): v for k, v in r.headers.items()})
        except urllib.error.HTTPError as e:
            with e:
                raw = e.read()
            return Response(e.code, _parse(raw), {k.lower(): v for k, v in (e.headers or {}).items()})

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        attempts: Optional[int] = None,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
    ) -> Response:
        """Sends one request, retrying what may succeed later. Returns the last answer (any status); raises
        ``ApiError`` (``unreachable``, or the last retryable answer when the deadline cut the retries short)."""
        data = body if isinstance(body, bytes) or body is None else encode(body)
        r = _Retry(self.s, attempts, deadline)
        for attempt in range(r.attempts):
            try:
                res = self.once(method, path, data, r.timeout(timeout))
            except (OSError, http.client.HTTPException, ValueError) as e:
                wait = r.after_failure(attempt, e)
            else:
                wait = r.after_response(attempt, res)
                if wait is None and (res.status not in RETRYABLE or attempt == r.attempts - 1):
                    return res
            if wait is None:
                break
            time.sleep(wait)
        raise r.error()


class AsyncTransport:
    """Awaitable calls: ``httpx.AsyncClient`` when available (and chosen), else the sync transport on a thread."""

    def __init__(self, s: Settings, sync: SyncTransport, backend: Backend) -> None:
        self.s = s
        self.sync = sync
        self.httpx: Any = None
        if backend in ("auto", "httpx"):
            try:
                import httpx
            except ImportError:
                if backend == "httpx":
                    raise ImportError("http_backend='httpx' needs httpx: pip install 'agentops-hub[httpx]'") from None
            else:
                self.httpx = httpx
        self.backend = "httpx" if self.httpx is not None else "urllib"
        # An AsyncClient belongs to the event loop that first used it: one per loop.
        self._clients: Dict[int, Any] = {}

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        c = self._clients.get(id(loop))
        if c is None or c.is_closed:
            c = self.httpx.AsyncClient(headers=self.s.headers)
            self._clients = {k: v for k, v in self._clients.items() if not v.is_closed}
            self._clients[id(loop)] = c
        return c

    async def once(self, method: str, path: str, body: Body, timeout: float) -> Response:
        if self.httpx is None:
            return await asyncio.to_thread(self.sync.once, method, path, body, timeout)
        headers = None if body is None else {"content-type": "application/json"}
        r = await self._client().request(method, self.s.hub_url + path, content=body, headers=headers, timeout=timeout)
        return Response(r.status_code, _parse(r.content), {k.lower(): v for k, v in r.headers.items()})

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        attempts: Optional[int] = None,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
    ) -> Response:
        """The async twin of ``SyncTransport.call``."""
        data = body if isinstance(body, bytes) or body is None else encode(body)
        r = _Retry(self.s, attempts, deadline)
        errors: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException, ValueError)
        if self.httpx is not None:
            errors = (*errors, self.httpx.TransportError)
        for attempt in range(r.attempts):
            try:
                res = await self.once(method, path, data, r.timeout(timeout))
            except errors as e:
                wait = r.after_failure(attempt, e)
            else:
                wait = r.after_response(attempt, res)
                if wait is None and (res.status not in RETRYABLE or attempt == r.attempts - 1):
                    return res
            if wait is None:
                break
            await asyncio.sleep(wait)
        raise r.error()

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for c in clients.values():
            if not c.is_closed:
                with contextlib.suppress(RuntimeError):  # its loop is gone
                    await c.aclose()
