/**
 * Fan-out of control changes between hub processes: a revoked API key, and later pauses, the kill
 * switch and policy edits, must be obeyed by every process within a second. One process (the SQLite
 * default) needs only an in-process emitter; on PostgreSQL the bus uses LISTEN/NOTIFY, or Redis
 * pub/sub when REDIS_URL is set. A process also receives its own messages, so handlers are idempotent.
 */
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';

const CHANNEL = 'hub_control';

export interface ControlMessage {
  topic: string;
  data: Record<string, unknown>;
}

export interface ControlBus {
  publish(topic: string, data: Record<string, unknown>): Promise<void>;
  subscribe(topic: string, handler: (data: Record<string, unknown>) => void): void;
  close(): Promise<void>;
}

export async function createControlBus(opts: {
  databaseUrl?: string;
  redisUrl?: string;
  log: FastifyBaseLogger;
}): Promise<ControlBus> {
  const local = new EventEmitter();
  local.setMaxListeners(100);
  const deliver = (raw: string) => {
    try {
      const msg = JSON.parse(raw) as ControlMessage;
      local.emit(msg.topic, msg.data);
    } catch (e) {
      opts.log.warn({ err: e }, 'control bus: unreadable message');
    }
  };
  const subscribe = (topic: string, handler: (d: Record<string, unknown>) => void) => void local.on(topic, handler);

  if (opts.redisUrl) {
    const pub = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
    const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
    await sub.subscribe(CHANNEL);
    sub.on('message', (_c: string, m: string) => deliver(m));
    return {
      publish: async (topic, data) => void (await pub.publish(CHANNEL, JSON.stringify({ topic, data }))),
      subscribe,
      close: async () => {
        sub.disconnect();
        pub.disconnect();
      },
    };
  }

  if (opts.databaseUrl) {
    const listener = new pg.Client({ connectionString: opts.databaseUrl });
    let closed = false;
    const connect = async (client: pg.Client) => {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      client.on('notification', (n) => n.payload && deliver(n.payload));
      client.on('error', (e) => opts.log.warn({ err: e }, 'control bus: listener error'));
    };
    await connect(listener);
    const notifier = new pg.Client({ connectionString: opts.databaseUrl });
    await notifier.connect();
    notifier.on('error', (e) => opts.log.warn({ err: e }, 'control bus: notifier error'));
    return {
      publish: async (topic, data) => {
        await notifier.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ topic, data })]);
      },
      subscribe,
      close: async () => {
        if (closed) return;
        closed = true;
        await Promise.allSettled([listener.end(), notifier.end()]);
      },
    };
  }

  return {
    publish: async (topic, data) => void local.emit(topic, data),
    subscribe,
    close: async () => void local.removeAllListeners(),
  };
}
