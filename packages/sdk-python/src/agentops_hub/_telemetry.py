"""The buffer between the agent and the hub.

Recording appends a tuple to a deque (no I/O, no serialization on the agent's thread). A background thread
sends it: every ``flush_interval`` seconds, as soon as a batch is full, on ``flush()`` and at exit. One send
at a time, in order: run reports first (``POST /v1/ingest/run``, merged per run), then events in batches
(``POST /v1/ingest/events``, at most 1000 per request and under the body limit). What cannot be sent yet stays
buffered and is retried after a jittered backoff (``Retry-After`` honoured); what the hub refuses for good (a
4xx) is dropped and counted. Memory is bounded: past ``max_queue_size`` new events are dropped and counted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from datetime import datetime, timezone
from itertools import islice
from typing import Any, Callable, Deque, Dict, List, Literal, Optional, Set, Tuple

from ._transport import SyncTransport, backoff, encode, retry_after
from ._types import TelemetryStats
from .errors import ApiError

log = logging.getLogger("agentops_hub")

#: An event as buffered: (seq, run_id, agent, type, unix time, payload). The cheapest shape to make on the
#: agent's call; the id and the ISO timestamp are derived when it is sent, the same way every time, so a
#: retried batch carries the same event ids and the hub drops duplicates.
QueuedEvent = Tuple[int, str, Optional[str], str, float, Dict[str, Any]]

#: The hub takes at most 1000 events per request and bodies up to 8 MB (HUB_BODY_LIMIT_MB).
MAX_EVENTS_PER_REQUEST = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024 - 64 * 1024
MAX_PENDING_RUNS = 1000
Outcome = Literal["done", "retry", "too_large"]

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def merge_run(older: Dict[str, Any], newer: Dict[str, Any]) -> Dict[str, Any]:
    """Later fields win; fields the newer report leaves out (None) keep their older value."""
    out = dict(older)
    out.update((k, v) for k, v in newer.items() if v is not None)
    return out


class Telemetry:
    def __init__(
        self,
        *,
        id_prefix: str,
        transport: SyncTransport,
        flush_interval: float,
        batch_size: int,
        max_queue_size: int,
        max_retries: int,
        max_body_bytes: int = MAX_BODY_BYTES,
        #: Called on the background thread after each round (the client refreshes its controls there).
        after_round: Optional[Callable[[], None]] = None,
    ) -> None:
        self.id_prefix = id_prefix
        self.transport = transport
        self.flush_interval = flush_interval
        self.batch_size = max(1, min(batch_size, MAX_EVENTS_PER_REQUEST))
        self.max_queue_size = max_queue_size
        self.max_retries = max_retries
        self.max_body_bytes = max_body_bytes
        self.after_round = after_round
        self.events: Deque[QueuedEvent] = deque()
        self.runs: Dict[str, Dict[str, Any]] = {}
        self._runs_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self._failures = 0
        self._not_before = 0.0  # monotonic time before which the worker does not send (backoff, Retry-After)
        self._warned: Set[str] = set()
        self._iso_at = -1.0
        self._iso = ""
        self.sent = 0
        self.dropped = 0
        self.rejected = 0
        self.failed_attempts = 0
        _live.add(self)

    # ── the agent's side ─────────────────────────────────────────────────────────────────────────

    def push(self, ev: QueuedEvent) -> None:
        """Buffers one event. Never raises, never waits."""
        q = self.events
        if len(q) >= self.max_queue_size:
            self.dropped += 1
            self._warn_once(
                "full", "AgentOps: telemetry buffer full (%d events); dropping new events", self.max_queue_size
            )
            return
        q.append(ev)
        if self._thread is None:
            self._start()
        if len(q) >= self.batch_size:
            self._wake.set()

    def push_run(self, run: Dict[str, Any]) -> None:
        """Buffers a run report; reports of the same run not yet sent are merged (later fields win)."""
        rid = run["run_id"]
        with self._runs_lock:
            prev = self.runs.get(rid)
            if prev is None and len(self.runs) >= MAX_PENDING_RUNS:
                self.dropped += 1
                self._warn_once(
                    "runs", "AgentOps: more than %d run reports waiting; dropping new ones", MAX_PENDING_RUNS
                )
                return
            self.runs[rid] = merge_run(prev, run) if prev else run
        if self._thread is None:
            self._start()
        # A run start is sent soon (the run is visible while it works), not after a whole interval.
        self._wake.set()

    @property
    def size(self) -> int:
        return len(self.events) + len(self.runs)

    def stats(self) -> TelemetryStats:
        return TelemetryStats(self.size, self.sent, self.dropped, self.rejected, self.failed_attempts)

    # ── sending ──────────────────────────────────────────────────────────────────────────────────

    def flush(self, *, attempts: Optional[int] = None, deadline: Optional[float] = None) -> bool:
        """Sends everything buffered now (after a send already under way), on the caller's thread. True when
        the buffer is empty afterwards; False when the hub could not take it all (it stays buffered)."""
        if deadline is None:
            locked = self._send_lock.acquire()
        else:
            locked = self._send_lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        if not locked:
            return False
        try:
            self._send_all(attempts, deadline)
        finally:
            self._send_lock.release()
        return self.size == 0

    def close(self) -> None:
        """Stops the background thread (after a final flush)."""
        self._closed = True
        self._wake.set()

    def after_fork(self) -> None:
        """In a forked child the parent's thread does not exist: start afresh when the child records."""
        self._thread = None
        self._send_lock = threading.Lock()
        self._runs_lock = threading.Lock()
        self._wake = threading.Event()

    def _start(self) -> None:
        if self._closed or self._thread is not None:
            return
        t = threading.Thread(target=_worker, args=(weakref.ref(self),), name="agentops-hub-telemetry", daemon=True)
        self._thread = t
        t.start()

    def _tick(self) -> float:
        """One wake-up of the worker: send if due; returns how long to sleep next."""
        now = time.monotonic()
        if now < self._not_before:
            return self._not_before - now
        if self.size:
            with self._send_lock:
                self._send_all(None, None)
            if self.after_round is not None:
                self.after_round()
        if self._failures:
            self._not_before = max(self._not_before, time.monotonic() + backoff(self._failures, 1.0, 30.0) + 0.5)
            return self._not_before - time.monotonic()
        return self.flush_interval

    def _send_all(self, attempts: Optional[int], deadline: Optional[float]) -> None:
        tries = attempts if attempts is not None else self.max_retries
        while True:
            # Run reports first, also those recorded while events were being sent.
            with self._runs_lock:
                item = next(iter(self.runs.items()), None)
                if item is not None:
                    del self.runs[item[0]]
            if item is not None:
                rid, run = item
                if self._send("/v1/ingest/run", encode(run), tries, deadline, 1) == "retry":
                    with self._runs_lock:  # put it back, under any newer report of the same run
                        newer = self.runs.pop(rid, None)
                        self.runs = {rid: merge_run(run, newer) if newer else run, **self.runs}
                    return
                continue
            if not self.events:
                return
            n = min(len(self.events), MAX_EVENTS_PER_REQUEST)
            wire = [self._to_wire(e) for e in islice(self.events, n)]
            body = encode({"events": wire})
            while len(body) > self.max_body_bytes and n > 1:
                n = (n + 1) // 2
                body = encode({"events": wire[:n]})
            if len(body) > self.max_body_bytes:
                self.events.popleft()
                self.dropped += 1
                self._warn_once("big", "AgentOps: an event larger than the hub's body limit was dropped")
                continue
            outcome = self._send("/v1/ingest/events", body, tries, deadline, n)
            while outcome == "too_large" and n > 1:
                n = (n + 1) // 2
                outcome = self._send("/v1/ingest/events", encode({"events": wire[:n]}), tries, deadline, n)
            if outcome == "retry":
                return
            for _ in range(n):
                self.events.popleft()

    def _to_wire(self, e: QueuedEvent) -> Dict[str, Any]:
        seq, run_id, agent, type_, at, payload = e
        # Events come in bursts within one millisecond: format each millisecond once.
        if at != self._iso_at:
            self._iso_at = at
            self._iso = datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"
        w: Dict[str, Any] = {
            "event_id": self.id_prefix + base36(seq),
            "run_id": run_id,
            "type": type_,
            "timestamp": self._iso,
            "payload": payload,
        }
        if agent is not None:
            w["agent"] = agent
        return w

    def _send(self, path: str, body: bytes, attempts: int, deadline: Optional[float], count: int) -> Outcome:
        """One request: 'done' (sent, or refused for good: dropped), 'retry' (keep it) or 'too_large'."""
        try:
            res = self.transport.call("POST", path, body=body, attempts=attempts, deadline=deadline)
        except ApiError as e:
            self._failures += 1
            self.failed_attempts += 1
            if e.retry_after:
                self._not_before = max(self._not_before, time.monotonic() + e.retry_after)
            self._warn_once("unreachable", "AgentOps: could not send telemetry, will retry: %s", e.message)
            return "retry"
        if res.status == 413:
            if count > 1:
                return "too_large"
        elif 200 <= res.status < 300:
            self._failures = 0
            rejected = res.body.get("rejected") if isinstance(res.body, dict) else None
            rejected = rejected if isinstance(rejected, list) else []
            self.sent += count - len(rejected)
            self.rejected += len(rejected)
            if rejected:
                first = rejected[0].get("errors") if isinstance(rejected[0], dict) else None
                self._warn_once("rejected", "AgentOps: the hub rejected %d event(s): %s", len(rejected), first)
            return "done"
        elif res.status in (408, 425, 429) or res.status >= 500:
            self._failures += 1
            self.failed_attempts += 1
            ra = retry_after(res.headers)
            if ra:
                self._not_before = max(self._not_before, time.monotonic() + ra)
            self._warn_once("unreachable", "AgentOps: could not send telemetry, will retry: HTTP %d", res.status)
            return "retry"
        # The hub refused it for good (bad key, invalid body): retrying would only repeat that.
        self.dropped += count
        code = res.body.get("code") if isinstance(res.body, dict) else ""
        detail = res.body.get("detail") if isinstance(res.body, dict) else res.body
        self._warn_once(
            f"http{res.status}", "AgentOps: the hub refused telemetry (%d %s): %s", res.status, code, detail
        )
        return "done"

    def _warn_once(self, key: str, msg: str, *args: Any) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning(msg, *args)


def _worker(ref: weakref.ReferenceType[Telemetry]) -> None:
    """The background thread. Holds the buffer only weakly between rounds, so a dropped client goes away."""
    while True:
        t = ref()
        if t is None or t._closed:
            return
        wake = t._wake
        wake.clear()  # before the round: a push during it wakes the next one
        try:
            sleep = t._tick()
        except Exception:  # never let a bug end the thread silently
            log.exception("AgentOps: telemetry round failed")
            sleep = t.flush_interval
        del t
        wake.wait(max(0.0, sleep))


_live: weakref.WeakSet[Telemetry] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for t in list(_live):
        t.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def live_buffers() -> List[Telemetry]:
    return list(_live)
