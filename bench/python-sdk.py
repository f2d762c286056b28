"""What the Python SDK costs the agent per recorded event, measured against the agent's own loop in the same run.

Run by bench/python-sdk.mjs (`npm run bench -- python-sdk`) with the repository's .venv.

- raw_us: per event, the agent's own work without the SDK: building the tool-call record and keeping it
  (a list append).
- sdk_us: per event, the same loop recording it with `record_tool_call` inside `with agentops.run()` (the run
  found through contextvars, as in real use).
- added_us = sdk_us - raw_us: what the SDK adds on the agent's thread. Target: <= 20 us. ratio = sdk_us / raw_us.
- encode_us: per event, the later sending work of the background thread on the SDK's side (wire events, ISO
  timestamps, JSON), over one buffer of BENCH_EVENTS events.

Events are recorded in chunks of 100 with `time.sleep(0)` between chunks, as an agent records between model and
tool calls; the SDK's background thread sends in those gaps to a sink (a separate process that answers 202 at
once), and whatever it takes from the agent's thread through the GIL is in sdk_us. Each figure is the median
of BENCH_ROUNDS (default 7) rounds of BENCH_EVENTS (default 100,000) events. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List

from agentops_hub import AgentOps

EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
CHUNK = 100
now = time.perf_counter

SINK = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(n) or b"{}")
        out = json.dumps({"accepted": len(body.get("events", [])), "rejected": [], "run_id": body.get("run_id")})
        self.send_response(202)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out.encode())
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def payload(i: int) -> Dict[str, Any]:
    return {"email": "someone@example.com", "i": i}


def raw_round() -> float:
    kept: List[Any] = []
    total = 0.0
    count = 0
    for c in range(0, EVENTS, CHUNK):
        t0 = now()
        for i in range(c, c + CHUNK):
            kept.append({"tool": "crm_lookup", "args": payload(i)})
        total += now() - t0
        count += len(kept)
        kept = []
        time.sleep(0)
    assert count == EVENTS, "baseline lost events"
    return total / EVENTS * 1e6


def client(url: str, **extra: Any) -> AgentOps:
    options: Dict[str, Any] = {
        "hub_url": url,
        "api_key": "ahk_bench",
        "agent": "BenchBot",
        "controls_refresh": 0,
        "flush_at_exit": False,
        "max_queue_size": EVENTS + 10,
        **extra,
    }
    return AgentOps(**options)


def sdk_round(url: str) -> float:
    ops = client(url)
    total = 0.0
    with ops.run("bench"):
        for c in range(0, EVENTS, CHUNK):
            t0 = now()
            for i in range(c, c + CHUNK):
                ops.record_tool_call("crm_lookup", args=payload(i))
            total += now() - t0
            time.sleep(0)
    ops.flush(timeout=60)
    s = ops.stats()
    if s.dropped or s.queued or s.sent < EVENTS:
        raise SystemExit(f"lost events: {s}")
    ops.shutdown(timeout=1)
    return total / EVENTS * 1e6


def encode_round(url: str) -> float:
    ops = client(url, flush_interval=3600, batch_size=1000)
    run = ops.record_run_start("bench")
    for i in range(EVENTS):
        run.record_tool_call("crm_lookup", args=payload(i))
    t = ops._telemetry
    events = list(t.events)
    from agentops_hub._transport import encode

    t0 = now()
    for k in range(0, len(events), 1000):
        encode({"events": [t._to_wire(e) for e in events[k : k + 1000]]})
    us = (now() - t0) / len(events) * 1e6
    ops.shutdown(timeout=5)
    return us


def main() -> None:
    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
    try:
        assert sink.stdout is not None
        url = f"http://127.0.0.1:{sink.stdout.readline().strip()}"
        # Warm-up.
        raw_round()
        sdk_round(url)
        raw: List[float] = []
        sdk: List[float] = []
        enc: List[float] = []
        for _ in range(ROUNDS):
            raw.append(raw_round())
            sdk.append(sdk_round(url))
            enc.append(encode_round(url))
    finally:
        sink.terminate()
        sink.wait()
    raw_us = statistics.median(raw)
    sdk_us = statistics.median(sdk)
    sys.stdout.write(
        json.dumps(
            {
                "bench": "python-sdk",
                "python": platform.python_version(),
                "events": EVENTS,
                "rounds": ROUNDS,
                "raw_us": round(raw_us, 3),
                "sdk_us": round(sdk_us, 3),
                "added_us": round(sdk_us - raw_us, 3),
                "target_added_us": 20,
                "ratio": round(sdk_us / raw_us, 2),
                "encode_us": round(statistics.median(enc), 3),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
