/**
 * @module redact-archives
 * The re-redaction of an org's cold archives (`<data dir>/archives/<org>/*.jsonl.gz`, written by the
 * retention job: one JSON row per line, runs or events as they were stored). One file per call: it is
 * streamed through the redactor into a temporary file beside it, which then replaces it by rename, so an
 * interrupted pass leaves each file either as it was or fully redacted, never half of each.
 *
 * A runs archive written on PostgreSQL carries the run's `search` tsvector (the words of the original
 * text); it is dropped, since it is derived and an archive is never searched.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import type { OrgId } from '../../platform/caller.ts';
import type { Cursor, PageResult } from './redact-pages.ts';
import type { Redactor } from './redactor.ts';
import { redactJsonColumn, redactMetadata, redactPayload } from './stored-content.ts';

const TMP = '.redacting';

export const archiveDir = (dataDir: string, orgId: OrgId) => join(dataDir, 'archives', orgId);

/** The next archive file after the cursor (files in name order), rewritten; `next` names it. */
export async function archivesPage(dataDir: string, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const dir = archiveDir(dataDir, orgId);
  if (!existsSync(dir)) return { next: null, scanned: 0, changed: 0 };
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl.gz'))
    .sort();
  const file = files.find((f) => f > (after?.id ?? ''));
  if (!file) return { next: null, scanned: 0, changed: 0 };
  const { scanned, changed } = await rewrite(join(dir, file), red);
  return { next: { id: file }, scanned, changed };
}

type Row = Record<string, unknown>;

/** One archived row as the redactor keeps it; the same object when nothing changes. */
function redactRow(red: Redactor, kind: 'runs' | 'events', row: Row): Row {
  const agent = String(row.agent_id ?? '');
  const out: Row = { ...row };
  if (kind === 'events') {
    if (typeof row.payload === 'string') out.payload = redactPayload(red, agent, row.payload);
    return out;
  }
  for (const col of ['input', 'output', 'error'] as const)
    if (typeof row[col] === 'string') out[col] = redactJsonColumn(red, agent, row[col] as string);
  if (typeof row.metadata === 'string') out.metadata = redactMetadata(red, agent, row.metadata);
  delete out.search;
  return out;
}

async function rewrite(path: string, red: Redactor) {
  const name = path.split('/').pop()!;
  const kind = name.startsWith('events-') ? 'events' : 'runs';
  const tmp = `${path}${TMP}`;
  rmSync(tmp, { force: true }); // left by an interrupted attempt
  const gzip = createGzip();
  const out = createWriteStream(tmp);
  gzip.pipe(out);
  let scanned = 0;
  let changed = 0;
  const lines = createInterface({
    input: createReadStream(path).pipe(createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line) continue;
    scanned++;
    const kept = JSON.stringify(redactRow(red, kind, JSON.parse(line) as Row));
    if (kept !== line) changed++;
    if (!gzip.write(`${kept}\n`)) await once(gzip, 'drain');
  }
  gzip.end();
  await once(out, 'finish');
  // Replaced only when complete: the rename is atomic on one file system.
  if (changed > 0) renameSync(tmp, path);
  else rmSync(tmp, { force: true });
  return { scanned, changed };
}
