"""A scripted OpenAI-compatible chat model for the examples: a loopback HTTP server in this process that answers
``POST /v1/chat/completions`` from a list of replies (text or tool calls), so the examples run without an
OpenAI key and without network. Point any OpenAI client at ``serve(replies).base_url``."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List


class ScriptedModel:
    """Serves the replies in order; each is ``{"content": str}`` or ``{"tool_calls": [(name, args), ...]}``,
    with ``input_tokens`` / ``output_tokens`` reported as the usage."""

    def __init__(self, model: str, replies: List[Dict[str, Any]]) -> None:
        self.model = model
        self.replies = list(replies)
        ids = itertools.count(1)
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                r = (
                    scripted.replies.pop(0)
                    if scripted.replies
                    else {"content": "(end of script)"}
                )
                message: Dict[str, Any] = {
                    "role": "assistant",
                    "content": r.get("content"),
                }
                calls = [
                    {
                        "id": f"call_{next(ids)}",
                        "type": "function",
                        "function": {"name": n, "arguments": json.dumps(a)},
                    }
                    for n, a in r.get("tool_calls", [])
                ]
                if calls:
                    message["tool_calls"] = calls
                inp, out = r.get("input_tokens", 100), r.get("output_tokens", 20)
                body = json.dumps(
                    {
                        "id": f"chatcmpl-{next(ids)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": scripted.model,
                        "choices": [
                            {
                                "index": 0,
                                "message": message,
                                "finish_reason": "tool_calls" if calls else "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": inp,
                            "completion_tokens": out,
                            "total_tokens": inp + out,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
