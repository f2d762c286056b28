"""A scripted OpenAI-compatible model on loopback, for the integration tests: no network, no mock of any
client. It serves ``POST /v1/chat/completions`` and ``POST /v1/responses`` (plain and streamed, server-sent
events) from a script of replies, in order, and keeps every request body it received.

A reply is text or tool calls, with the usage the model reports::

    model.script(
        Reply(tool_calls=[("lookup_order", {"order_id": "A-1001"})], input_tokens=120, output_tokens=20),
        Reply(text="Your refund is on its way.", input_tokens=180, output_tokens=12),
    )
    client = openai.OpenAI(base_url=model.base_url, api_key="scripted")

When the script runs out, the model answers ``"(end of script)"``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

_ids = itertools.count(1)


@dataclass
class Reply:
    """One answer of the scripted model: ``text``, or ``tool_calls`` as ``(name, arguments)`` pairs."""

    text: Optional[str] = None
    tool_calls: List[Tuple[str, Dict[str, Any]]] = field(default_factory=list)
    input_tokens: int = 100
    output_tokens: int = 20
    cached_tokens: int = 0
    reasoning_tokens: int = 0


class ScriptedModel:
    def __init__(self) -> None:
        self._replies: List[Reply] = []
        self._lock = threading.Lock()
        self.requests: List[Tuple[str, Dict[str, Any]]] = []  # (path, body)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def script(self, *replies: Reply) -> None:
        """Replaces what the model will answer next."""
        with self._lock:
            self._replies = list(replies)
            self.requests.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Reply:
        with self._lock:
            return self._replies.pop(0) if self._replies else Reply(text="(end of script)")

    # ── wire shapes ─────────────────────────────────────────────────────────────────────────────

    @staticmethod
    def _chat_usage(r: Reply) -> Dict[str, Any]:
        return {
            "prompt_tokens": r.input_tokens,
            "completion_tokens": r.output_tokens,
            "total_tokens": r.input_tokens + r.output_tokens,
            "prompt_tokens_details": {"cached_tokens": r.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": r.reasoning_tokens},
        }

    @staticmethod
    def _responses_usage(r: Reply) -> Dict[str, Any]:
        return {
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "total_tokens": r.input_tokens + r.output_tokens,
            "input_tokens_details": {"cached_tokens": r.cached_tokens},
            "output_tokens_details": {"reasoning_tokens": r.reasoning_tokens},
        }

    @staticmethod
    def _tool_calls(r: Reply) -> List[Dict[str, Any]]:
        return [
            {"id": f"call_{next(_ids)}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for n, a in r.tool_calls
        ]

    def chat(self, body: Dict[str, Any], r: Reply) -> Dict[str, Any]:
        message: Dict[str, Any] = {"role": "assistant", "content": r.text}
        if r.tool_calls:
            message["tool_calls"] = self._tool_calls(r)
        return {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if r.tool_calls else "stop"}],
            "usage": self._chat_usage(r),
        }

    def chat_chunks(self, body: Dict[str, Any], r: Reply) -> Iterator[Dict[str, Any]]:
        base = {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion.chunk", "created": int(time.time())}
        base["model"] = body.get("model", "gpt-4o-mini")
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        if r.text:
            for word in r.text.split(" "):
                piece = word if word == r.text.split(" ")[0] else " " + word
                yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        if r.tool_calls:
            calls = [{**c, "index": i} for i, c in enumerate(self._tool_calls(r))]
            yield {**base, "choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]}
        finish = "tool_calls" if r.tool_calls else "stop"
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "choices": [], "usage": self._chat_usage(r)}

    def response(self, body: Dict[str, Any], r: Reply) -> Dict[str, Any]:
        output: List[Dict[str, Any]] = []
        if r.text is not None:
            output.append(
                {
                    "type": "message",
                    "id": f"msg_{next(_ids)}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": r.text, "annotations": []}],
                }
            )
        for c in self._tool_calls(r):
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{next(_ids)}",
                    "call_id": c["id"],
                    "name": c["function"]["name"],
                    "arguments": c["function"]["arguments"],
                    "status": "completed",
                }
            )
        return {
            "id": f"resp_{next(_ids)}",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": body.get("model", "gpt-4o-mini"),
            "instructions": body.get("instructions"),
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": self._responses_usage(r),
        }

    def response_events(self, body: Dict[str, Any], r: Reply) -> Iterator[Dict[str, Any]]:
        done = self.response(body, r)
        seq = itertools.count()
        yield {
            "type": "response.created",
            "sequence_number": next(seq),
            "response": {**done, "status": "in_progress", "output": [], "usage": None},
        }
        for i, item in enumerate(done["output"]):
            yield {"type": "response.output_item.added", "sequence_number": next(seq), "output_index": i, "item": item}
            if item["type"] == "message":
                yield {
                    "type": "response.output_text.delta",
                    "sequence_number": next(seq),
                    "item_id": item["id"],
                    "output_index": i,
                    "content_index": 0,
                    "delta": r.text,
                    "logprobs": [],
                }
            yield {"type": "response.output_item.done", "sequence_number": next(seq), "output_index": i, "item": item}
        yield {"type": "response.completed", "sequence_number": next(seq), "response": done}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = json.loads(raw or b"{}")
                path = self.path.split("?", 1)[0]
                with model._lock:
                    model.requests.append((path, body))
                if path.endswith("/chat/completions"):
                    r = model._next()
                    if body.get("stream"):
                        self._sse(({"data": c} for c in model.chat_chunks(body, r)), done_marker=True)
                    else:
                        self._json(model.chat(body, r))
                elif path.endswith("/responses"):
                    r = model._next()
                    if body.get("stream"):
                        self._sse({"event": e["type"], "data": e} for e in model.response_events(body, r))
                    else:
                        self._json(model.response(body, r))
                else:
                    self._json({"error": {"message": f"no route {path}"}}, 404)

            def _json(self, obj: Any, status: int = 200) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, events: Iterator[Dict[str, Any]], done_marker: bool = False) -> None:
                parts = []
                for e in events:
                    head = f"event: {e['event']}\n" if "event" in e else ""
                    parts.append(f"{head}data: {json.dumps(e['data'])}\n\n")
                if done_marker:
                    parts.append("data: [DONE]\n\n")
                data = "".join(parts).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    """A scripted OpenAI-compatible model on loopback (``model.base_url``), fresh per test."""
    m = ScriptedModel()
    try:
        yield m
    finally:
        m.close()
