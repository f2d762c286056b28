/**
 * The `ingestion.error` event the webhook contract names: items of a batch that ingestion rejected
 * (REST `/v1/ingest/events`, OTLP spans that could not be mapped). Ingestion hands what it rejected to
 * `record` (a synchronous push into a per-process buffer: nothing waits on the request's path). The first
 * record after a flush sets a timer, and a minute later the buffer is flushed: one notice per org and
 * subject (where the items came from, and the first field named in their errors), counting the items it
 * covers. That is the rate limit: at most one notice per org and subject a minute per process, however
 * many rejected items. The buffer is per process (each process flushes what it received itself).
 *
 * In-app and email follow the `ingestion_errors` preferences (email off by default); the webhook gets
 * `ingestion.error` with the counts and up to 10 sample errors.
 */

import type { OrgId } from '../../platform/caller.ts';
import type { FieldError } from '../../platform/errors.ts';
import type { Log } from '../../platform/jobs/job-runner.ts';
import type { NotificationService } from '../../platform/notifications/notifications.service.ts';

/** Where rejected items came from. */
export type IngestionSource = 'events' | 'run' | 'otlp';

interface Pending {
  source: IngestionSource;
  field: string;
  items: number;
  samples: { index: number; errors: FieldError[] }[];
}

const MAX_SUBJECTS_PER_ORG = 50;
const SAMPLES = 10;

const FLUSH_AFTER_MS = 60_000;

export function createIngestionErrorNotifier(deps: { notifications: Pick<NotificationService, 'notify'>; log: Log }) {
  /** org → subject → what is waiting to be told. */
  let buffer = new Map<OrgId, Map<string, Pending>>();
  let timer: NodeJS.Timeout | null = null;

  const api = {
    /** Notes rejected items. Synchronous and bounded: safe to call from the ingestion path. */
    record(orgId: OrgId, source: IngestionSource, rejected: readonly { index: number; errors: FieldError[] }[]) {
      if (!rejected.length) return;
      // Unref'd: a pending flush never keeps a stopping process alive.
      timer ??= setTimeout(() => void api.flush(), FLUSH_AFTER_MS).unref();
      let subjects = buffer.get(orgId);
      if (!subjects) {
        subjects = new Map();
        buffer.set(orgId, subjects);
      }
      for (const item of rejected) {
        const field = item.errors[0]?.path || '(item)';
        const key = `${source}|${field}`;
        let p = subjects.get(key);
        if (!p) {
          if (subjects.size >= MAX_SUBJECTS_PER_ORG) continue;
          p = { source, field, items: 0, samples: [] };
          subjects.set(key, p);
        }
        p.items++;
        if (p.samples.length < SAMPLES) p.samples.push(item);
      }
    },

    /** Sends one notice per org and subject for what was recorded since the last flush. */
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      const pending = buffer;
      buffer = new Map();
      let sent = 0;
      // The org came with the rejected items from an authenticated ingestion request: no minting here.
      for (const [orgId, subjects] of pending) {
        for (const p of subjects.values()) {
          const noun = p.source === 'otlp' ? 'span' : p.source === 'run' ? 'run' : 'event';
          const what = p.items === 1 ? `${noun} was` : `${noun}s were`;
          try {
            await deps.notifications.notify(orgId, {
              topic: 'ingestion_errors',
              type: 'ingestion.error',
              title: `${p.items} ${what} rejected at ingestion (${p.field})`,
              body: p.samples
                .slice(0, 3)
                .map((s) => `#${s.index}: ${s.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
                .join('\n'),
              entityType: 'ingestion',
              webhookEvent: 'ingestion.error',
              data: { source: p.source, field: p.field, rejected: p.items, samples: p.samples },
            });
            sent++;
          } catch (e) {
            deps.log.error({ err: e, org: orgId }, 'ingestion error notice failed');
          }
        }
      }
      return sent;
    },
  };
  return api;
}
export type IngestionErrorNotifier = ReturnType<typeof createIngestionErrorNotifier>;
