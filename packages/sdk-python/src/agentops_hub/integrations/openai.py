"""The official ``openai`` client, sync and async: each ``chat.completions.create`` and ``responses.create``
records an ``llm_call`` with the model, provider, tokens (input, output, cached, reasoning) and duration; the hub
prices it from its model table. Streams too: a streamed chat completion asks for its usage with
``stream_options={"include_usage": True}`` unless the caller set it, and the call is recorded when the stream
has been read to its end (the last chunk, or ``response.completed``). Same shape as the TypeScript SDK's
``wrapOpenAI``. Nothing here imports ``openai``.

Example::

    from openai import OpenAI
    from agentops_hub import AgentOps
    from agentops_hub.integrations.openai import wrap_openai

    agentops = AgentOps(agent="SupportBot")
    client = wrap_openai(OpenAI(), agentops)
    with agentops.run("answer"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
"""

from __future__ import annotations

import functools
import inspect
import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Literal, Optional, TypeVar

from ._common import AnyAgentOps, jsonable, log, openai_usage, text_of

C = TypeVar("C")
Kind = Literal["chat", "responses"]

__all__ = ["openai_usage", "wrap_openai"]


def wrap_openai(
    client: C,
    agentops: AnyAgentOps,
    *,
    run_id: Optional[str] = None,
    provider: str = "openai",
    include_content: bool = False,
) -> C:
    """Returns the same client (``OpenAI`` or ``AsyncOpenAI``) with ``chat.completions.create`` and
    ``responses.create`` recording their usage on the current run (or ``run_id``). Calls outside a run are not
    recorded. Recording never changes what the call returns or raises.

    ``provider`` names the provider on each call (set it for OpenAI-compatible servers); ``include_content``
    adds the request's messages and the answer (``input_messages``, ``output_messages``) to each ``llm_call``.

    Example::

        client = wrap_openai(AsyncOpenAI(), agentops)
        async with agentops.run("answer"):
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=msgs, stream=True)
            async for chunk in stream: ...
    """
    chat = getattr(getattr(client, "chat", None), "completions", None)
    if chat is not None and hasattr(chat, "create"):
        _wrap(chat, "chat", agentops, run_id, provider, include_content)
    responses = getattr(client, "responses", None)
    if responses is not None and hasattr(responses, "create"):
        _wrap(responses, "responses", agentops, run_id, provider, include_content)
    return client


def _wrap(
    target: Any, kind: Kind, agentops: AnyAgentOps, run_id: Optional[str], provider: str, include_content: bool
) -> None:
    original = target.create
    if getattr(original, "__agentops__", False):
        return

    def prepare(kwargs: Dict[str, Any]) -> Dict[str, Any]:
        if kind == "chat" and kwargs.get("stream") is True:
            so = kwargs.get("stream_options")
            if not isinstance(so, dict) or "include_usage" not in so:
                kwargs = {**kwargs, "stream_options": {**(so if isinstance(so, dict) else {}), "include_usage": True}}
        return kwargs

    def recorder(kwargs: Dict[str, Any]) -> Optional[_Recorder]:
        # The run is read when the call starts: a stream may be read after the run's block has ended.
        current = agentops.current_run()
        rid = run_id or (current.id if current is not None else None)
        if rid is None:
            return None
        return _Recorder(agentops, rid, kind, kwargs, provider, include_content)

    @functools.wraps(original)
    def create(*args: Any, **kwargs: Any) -> Any:
        rec = recorder(kwargs)
        result = original(*args, **prepare(kwargs))
        if rec is None:
            return result
        stream = bool(kwargs.get("stream"))
        if inspect.isawaitable(result):  # AsyncOpenAI: observe the answer once it is awaited

            async def observed() -> Any:
                answer = await result
                rec.observe(answer, stream)
                return answer

            return observed()
        rec.observe(result, stream)
        return result

    create.__agentops__ = True  # type: ignore[attr-defined]
    target.create = create


class _Recorder:
    """One call: records it once the answer (or the stream's end) carries its usage."""

    def __init__(
        self,
        agentops: AnyAgentOps,
        run_id: str,
        kind: Kind,
        request: Dict[str, Any],
        provider: str,
        include_content: bool,
    ) -> None:
        self.agentops = agentops
        self.run_id = run_id
        self.kind = kind
        self.request = request
        self.provider = provider
        self.include_content = include_content
        self.started = time.monotonic()
        self.model: Optional[str] = None
        self.usage: Any = None
        self.text: List[str] = []
        self.tool_calls: Dict[int, Dict[str, Any]] = {}
        self.final: Any = None

    def observe(self, result: Any, stream: bool) -> None:
        try:
            if not stream:
                self.model = getattr(result, "model", None)
                self.usage = getattr(result, "usage", None)
                self.final = result
                self.record()
            elif hasattr(result, "_iterator"):
                # Keep the stream object the caller gets (its type, close(), response): observe its iterator.
                it = result._iterator
                result._iterator = self._aiter(it) if hasattr(it, "__anext__") else self._iter(it)
        except Exception:
            log.debug("wrap_openai: observing the call failed", exc_info=True)

    def _chunk(self, chunk: Any) -> None:
        try:
            if self.kind == "chat":
                self.model = getattr(chunk, "model", None) or self.model
                if getattr(chunk, "usage", None):
                    self.usage = chunk.usage
                if self.include_content:
                    for choice in getattr(chunk, "choices", None) or []:
                        delta = getattr(choice, "delta", None)
                        if delta is not None and getattr(delta, "content", None):
                            self.text.append(delta.content)
                        for tc in getattr(delta, "tool_calls", None) or []:
                            slot = self.tool_calls.setdefault(tc.index, {"name": "", "arguments": ""})
                            fn = getattr(tc, "function", None)
                            if fn is not None:
                                slot["name"] += fn.name or ""
                                slot["arguments"] += fn.arguments or ""
            else:
                response = getattr(chunk, "response", None)
                if response is not None:
                    self.model = getattr(response, "model", None) or self.model
                    if getattr(response, "usage", None):
                        self.usage = response.usage
                        self.final = response
        except Exception:
            log.debug("wrap_openai: reading a chunk failed", exc_info=True)

    def _iter(self, it: Iterator[Any]) -> Iterator[Any]:
        for chunk in it:
            self._chunk(chunk)
            yield chunk
        self.record()

    async def _aiter(self, it: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for chunk in it:
            self._chunk(chunk)
            yield chunk
        self.record()

    def record(self) -> None:
        try:
            if self.usage is None:
                return
            extra: Dict[str, Any] = {}
            if self.include_content:
                extra["input_messages"] = _input_messages(self.kind, self.request)
                extra["output_messages"] = self._output_messages()
            self.agentops.record_llm_call(
                str(self.model or self.request.get("model") or "unknown"),
                provider=self.provider,
                duration_ms=round((time.monotonic() - self.started) * 1000, 3),
                run_id=self.run_id,
                **openai_usage(self.usage),
                **extra,
            )
        except Exception:
            log.debug("wrap_openai: recording the call failed", exc_info=True)

    def _output_messages(self) -> List[Dict[str, Any]]:
        if self.kind == "chat" and self.final is None:
            msg: Dict[str, Any] = {"role": "assistant", "content": "".join(self.text) or None}
            if self.tool_calls:
                msg["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
            return [msg]
        if self.kind == "chat":
            out = []
            for choice in getattr(self.final, "choices", None) or []:
                m = choice.message
                entry: Dict[str, Any] = {"role": m.role, "content": m.content}
                if getattr(m, "tool_calls", None):
                    entry["tool_calls"] = [
                        {"id": t.id, "name": t.function.name, "arguments": t.function.arguments} for t in m.tool_calls
                    ]
                out.append(entry)
            return out
        return _response_output_messages(self.final)


def _input_messages(kind: Kind, request: Dict[str, Any]) -> List[Dict[str, Any]]:
    if kind == "chat":
        return [
            {"role": str(m.get("role", "user")), "content": text_of(m.get("content"))}
            for m in request.get("messages") or []
            if isinstance(m, dict)
        ]
    out: List[Dict[str, Any]] = []
    if request.get("instructions"):
        out.append({"role": "system", "content": str(request["instructions"])})
    inp = request.get("input")
    if isinstance(inp, str):
        out.append({"role": "user", "content": inp})
    elif isinstance(inp, list):
        for item in inp:
            if isinstance(item, dict) and "role" in item:
                out.append({"role": str(item["role"]), "content": text_of(item.get("content"))})
            elif isinstance(item, dict):
                out.append({"role": str(item.get("type", "item")), "content": jsonable(item)})
    return out


def _response_output_messages(response: Any) -> List[Dict[str, Any]]:
    """The text and function calls of a Responses API answer, as ``{role, content, tool_calls}``."""
    text: List[str] = []
    calls: List[Dict[str, Any]] = []
    for item in getattr(response, "output", None) or []:
        t = getattr(item, "type", None)
        if t == "message":
            text.extend(p.text for p in item.content if getattr(p, "type", None) == "output_text")
        elif t == "function_call":
            calls.append({"id": item.call_id, "name": item.name, "arguments": item.arguments})
    msg: Dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
    if calls:
        msg["tool_calls"] = calls
    return [msg]
