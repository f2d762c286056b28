/**
 * @module replay-buffer
 * The events one Streamable HTTP session sent lately, kept so that a client whose connection broke can resume
 * the stream (`GET` with `Last-Event-ID`) without losing a message. Bounded by a count and by size: the oldest
 * events go first, and a resume from before the newest dropped event is refused, since what followed it may be
 * gone. Event ids are `<stream>-<seq>`: the stream the event belongs to (a resume replays only that stream's
 * events, as the MCP specification asks) and a counter of the session (ids are unique across its streams).
 */

export interface ReplayLimits {
  /** Events kept per session. Default 1000. */
  events?: number;
  /** Bytes of event text kept per session. Default 4 MiB. */
  bytes?: number;
}

interface Kept {
  stream: string;
  seq: number;
  text: string;
}

export class ReplayBuffer {
  private events: Kept[] = [];
  private head = 0;
  private bytes = 0;
  /** The seq of the newest event dropped to stay in bounds. */
  private dropped = 0;
  private readonly maxEvents: number;
  private readonly maxBytes: number;

  constructor(limits: ReplayLimits = {}) {
    this.maxEvents = limits.events ?? 1000;
    this.maxBytes = limits.bytes ?? 4 * 1024 * 1024;
  }

  /** Keeps one event as written (`text` is the whole SSE event, its `id:` line included). */
  add(stream: string, seq: number, text: string): void {
    this.events.push({ stream, seq, text });
    this.bytes += text.length;
    while (this.events.length - this.head > this.maxEvents || this.bytes > this.maxBytes) {
      const old = this.events[this.head++]!;
      this.bytes -= old.text.length;
      this.dropped = old.seq;
    }
    // Compact now and then rather than shift() per event.
    if (this.head >= 256 && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept events of `stream` sent after `seq`, in order; undefined when some of them may have been dropped. */
  after(stream: string, seq: number): string[] | undefined {
    if (seq < this.dropped) return undefined;
    const out: string[] = [];
    for (let i = this.head; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.seq > seq && e.stream === stream) out.push(e.text);
    }
    return out;
  }
}

/** Parses an event id made by the session (`<stream>-<seq>`). */
export function parseEventId(id: string): { stream: string; seq: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(id.trim());
  return m ? { stream: m[1]!, seq: Number(m[2]) } : undefined;
}
