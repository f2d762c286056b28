/**
 * @module telemetry
 * The buffer between the agent and the hub. Recording is a push onto an array (no I/O, no serialization on
 * the agent's call); a timer, a full batch, `flush()` or the exit hook sends it. One send at a time, in order:
 * run reports first (`POST /v1/ingest/run`, merged per run), then events in batches (`POST /v1/ingest/events`).
 * What cannot be sent yet stays buffered and is retried with backoff; what the hub refuses for good (a 4xx)
 * is dropped and counted. Memory is bounded: past `maxQueueSize` new events are dropped and counted.
 */
import type { Transport } from './transport.ts';
import { backoff } from './transport.ts';
import type { EventType, Logger, TelemetryStats, WireEvent, WireRun } from './types.ts';

/**
 * An event as buffered: the cheapest shape to make on the agent's call. The id and the ISO timestamp are
 * derived when it is sent (`toWire`), always the same way, so a retried batch carries the same event ids.
 */
export class QueuedEvent {
  constructor(
    readonly seq: number,
    readonly runId: string,
    readonly agent: string | undefined,
    readonly type: EventType,
    readonly at: number,
    readonly payload: Record<string, unknown>,
  ) {}
}

export interface TelemetryOptions {
  /** Prefix of event ids (unique per client): the id is prefix + seq in base 36. */
  idPrefix: string;
  transport: Transport;
  flushIntervalMs: number;
  batchSize: number;
  maxQueueSize: number;
  maxRetries: number;
  logger: Logger | null;
  /** Called after each send round (the client refreshes its controls there). */
  afterFlush?: () => void;
}

/** The hub takes at most 1000 events per request. */
const MAX_EVENTS_PER_REQUEST = 1000;
const MAX_PENDING_RUNS = 1000;

export class Telemetry {
  private events: QueuedEvent[] = [];
  private runs = new Map<string, WireRun>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private kicked = false;
  private isoAt = -1;
  private iso = '';
  private failures = 0;
  private warned = new Set<string>();
  private closed = false;
  readonly counters: TelemetryStats = { queued: 0, sent: 0, dropped: 0, rejected: 0, failedAttempts: 0 };

  constructor(private readonly o: TelemetryOptions) {}

  /** Buffers one event. Never throws, never waits. */
  push(ev: QueuedEvent): void {
    const q = this.events;
    if (q.length >= this.o.maxQueueSize) {
      this.counters.dropped++;
      this.warnOnce('full', `AgentOps: telemetry buffer full (${this.o.maxQueueSize} events); dropping new events`);
      return;
    }
    q.push(ev);
    if (q.length >= this.o.batchSize) this.kick();
    else if (this.timer === undefined) this.arm(this.o.flushIntervalMs);
  }

  /** Buffers a run report; reports of the same run not yet sent are merged (later fields win). */
  pushRun(run: WireRun): void {
    const id = run.run_id!;
    const prev = this.runs.get(id);
    if (!prev && this.runs.size >= MAX_PENDING_RUNS) {
      this.counters.dropped++;
      this.warnOnce('runs', `AgentOps: more than ${MAX_PENDING_RUNS} run reports waiting; dropping new ones`);
      return;
    }
    this.runs.set(id, prev ? mergeRun(prev, run) : run);
    if (this.timer === undefined) this.arm(Math.min(this.o.flushIntervalMs, 50));
  }

  get size(): number {
    return this.events.length + this.runs.size;
  }

  stats(): TelemetryStats {
    return { ...this.counters, queued: this.size };
  }

  /**
   * Sends everything buffered now (waiting for a send already under way first); resolves when done or when
   * the hub cannot take it (it stays buffered).
   */
  async flush(opts: { attempts?: number; keepalive?: boolean; deadline?: number } = {}): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (!this.size) return;
    this.clearTimer();
    this.inFlight = this.sendAll(opts).finally(() => {
      this.inFlight = null;
      if (this.again) {
        this.again = false;
        if (this.size) this.kick();
      }
      if (!this.closed && this.size && this.timer === undefined)
        this.arm(this.failures ? backoff(this.failures, 1000, 30_000) + 500 : this.o.flushIntervalMs);
      this.o.afterFlush?.();
    });
    return this.inFlight;
  }

  /** Stops the timer for good (after a final flush). */
  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private kick(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    // Already due now: pushes past a full batch must not create a timer each.
    if (this.kicked) return;
    this.clearTimer();
    this.arm(0);
    this.kicked = true;
  }

  private arm(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kicked = false;
      void this.flush();
    }, ms);
    // Telemetry never keeps a process alive; the exit hook sends what is left.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.kicked = false;
  }

  private async sendAll(opts: { attempts?: number; keepalive?: boolean; deadline?: number }): Promise<void> {
    const attempts = opts.attempts ?? this.o.maxRetries;
    for (;;) {
      // Run reports first, also those recorded while events were being sent.
      const first = this.runs.entries().next();
      if (!first.done) {
        const [id, run] = first.value;
        this.runs.delete(id);
        if ((await this.send('/v1/ingest/run', run, attempts, opts, 1)) === 'retry') {
          // Put it back, under any newer report of the same run recorded meanwhile.
          const newer = this.runs.get(id);
          this.runs.set(id, newer ? mergeRun(run, newer) : run);
          return;
        }
        continue;
      }
      if (!this.events.length) return;
      let n = Math.min(this.events.length, MAX_EVENTS_PER_REQUEST);
      const batch = this.events.slice(0, n).map((e) => this.toWire(e));
      let ok = await this.send('/v1/ingest/events', { events: batch }, attempts, opts, n);
      while (ok === 'too_large' && n > 1) {
        n = Math.ceil(n / 2);
        ok = await this.send('/v1/ingest/events', { events: batch.slice(0, n) }, attempts, opts, n);
      }
      if (ok === 'retry') return;
      this.events.splice(0, n);
    }
  }

  private toWire(e: QueuedEvent): WireEvent {
    // Events come in bursts within the same millisecond: format each millisecond once.
    if (e.at !== this.isoAt) {
      this.isoAt = e.at;
      this.iso = new Date(e.at).toISOString();
    }
    return {
      event_id: this.o.idPrefix + e.seq.toString(36),
      run_id: e.runId,
      agent: e.agent,
      type: e.type,
      timestamp: this.iso,
      payload: e.payload,
    };
  }

  /** One request; 'done' (sent or refused for good: drop it), 'retry' (keep it) or 'too_large'. */
  private async send(
    path: string,
    body: unknown,
    attempts: number,
    opts: { keepalive?: boolean; deadline?: number },
    count: number,
  ): Promise<'done' | 'retry' | 'too_large'> {
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch {
      try {
        json = JSON.stringify(body, safeReplacer());
      } catch (e) {
        // Not expected (the replacer bounds depth and cycles), but a batch that cannot be written is dropped
        // with a warning rather than thrown from a timer, where it would end the agent's process.
        this.warnOnce('unserializable', `AgentOps: ${count} event(s) could not be serialized: ${(e as Error).message}`);
        return 'done';
      }
    }
    try {
      const res = await this.o.transport.call('POST', path, {
        body: json,
        attempts,
        keepalive: opts.keepalive,
        deadline: opts.deadline,
      });
      if (res.status === 413 && count > 1) return 'too_large';
      if (res.status >= 200 && res.status < 300) {
        this.failures = 0;
        const rejected = (res.body?.rejected as { index: number; errors: { message: string }[] }[]) ?? [];
        this.counters.sent += count - rejected.length;
        this.counters.rejected += rejected.length;
        if (rejected.length)
          this.warnOnce(
            'rejected',
            `AgentOps: the hub rejected ${rejected.length} event(s): ${rejected[0].errors?.[0]?.message ?? ''}`,
          );
        return 'done';
      }
      if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(`HTTP ${res.status}`);
      // The hub refused it for good (bad key, invalid body): retrying would only repeat that.
      this.counters.dropped += count;
      this.warnOnce(
        `http${res.status}`,
        `AgentOps: the hub refused telemetry (${res.status} ${res.body?.code ?? ''}): ${res.body?.detail ?? res.body?.title ?? ''}`,
      );
      return 'done';
    } catch (e) {
      this.failures++;
      this.counters.failedAttempts++;
      this.warnOnce('unreachable', `AgentOps: could not send telemetry, will retry: ${(e as Error).message}`);
      return 'retry';
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.logger?.warn(message);
  }
}

function mergeRun(older: WireRun, newer: WireRun): WireRun {
  const out: Record<string, unknown> = { ...older };
  for (const [k, v] of Object.entries(newer)) if (v !== undefined) out[k] = v;
  return out as WireRun;
}

/** A replacer for values JSON cannot hold as they are: cycles, BigInt, functions. */
/** How deep the hub takes a request body (its JSON parser refuses deeper with 400). */
const MAX_DEPTH = 64;

/**
 * For a batch plain `JSON.stringify` refused: bigints as text, functions and symbols left out, an object
 * met again as '[circular]', and whatever is nested deeper than the hub takes as '[too deep]'. The depth
 * bound is also what keeps `JSON.stringify` (which recurses) from throwing RangeError on a value nested
 * 100,000 deep, such as a hostile MCP server's tool result recorded by the gateway.
 */
function safeReplacer() {
  const seen = new WeakSet<object>();
  const depthOf = new WeakMap<object, number>();
  return function replace(this: unknown, _key: string, value: unknown) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (value && typeof value === 'object') {
      if (seen.has(value)) return '[circular]';
      // `this` is the object or array that holds `value` (the root's holder is a wrapper of depth 0).
      const depth = (depthOf.get(this as object) ?? 0) + 1;
      if (depth > MAX_DEPTH) return '[too deep]';
      seen.add(value);
      depthOf.set(value, depth);
    }
    return value;
  };
}
