/**
 * Org export: a durable job (queue `org.export`) writes one JSONL file per kind of data the org owns,
 * plus `manifest.json`, and packs them into `<data dir>/exports/<org>/<export id>.tar.gz`.
 *
 * The resources people know from the API (org, members, teams, invitations, API keys, agents,
 * policies, runs, events, approvals, audit) are written in exactly the shape the API returns them;
 * every other table with an `org_id` column (found by asking the database, so new tables are never
 * forgotten) is written as stored, minus secret columns. Secrets never leave: API keys and invitation
 * tokens are hashes the API does not show either, and connection and webhook secrets are dropped.
 *
 * On PostgreSQL the rows are read in one REPEATABLE READ transaction, so the files are one consistent
 * snapshot. On SQLite (one connection for the whole hub) a long transaction would stall every request,
 * so pages are read one after another; ids keep paging stable.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { type Kysely, sql } from 'kysely';
import { create as createTar } from 'tar';
import type { Dialect } from '../../db/database.ts';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../../platform/audit/audit.store.ts';
import { toAuditEntry } from '../../platform/audit/audit-dto.ts';
import type { OrgId } from '../../platform/caller.ts';
import { toOrg } from '../../platform/orgs/org-dto.ts';
import { createOrgStore } from '../../platform/orgs/orgs.store.ts';
import type { SecretBox } from '../../platform/secret-box.ts';
import { toAgent } from '../agents/index.ts';
import { toApproval } from '../approvals/index.ts';
import { toPolicy } from '../policies/index.ts';
import { toEvent, toRun } from '../runs/index.ts';
import { orgScopedTables } from './org-tables.ts';

type Row = Record<string, unknown>;

const PAGE = 1000;
/** Columns that hold secrets or their hashes: never exported. */
const SECRET_COLUMN = /secret|password|token_hash|key_hash/i;

/** Where an org's export archives live; deleting the org deletes this directory. */
export const exportDir = (dataDir: string, orgId: string) => join(dataDir, 'exports', orgId);
export const exportFile = (dataDir: string, orgId: string, exportId: string) =>
  join(exportDir(dataDir, orgId), `${exportId}.tar.gz`);

export interface ExportServices {
  members(orgId: OrgId): Promise<unknown[]>;
  teams(orgId: OrgId): Promise<unknown[]>;
  invitations(orgId: OrgId): Promise<unknown[]>;
  apiKeys(orgId: OrgId): Promise<unknown[]>;
}

/** Writes the export's files into `dir`; returns [{name, rows}] in the order written. */
export async function writeOrgExport(deps: {
  db: Kysely<Database>;
  dialect: Dialect;
  secretBox: SecretBox;
  services: ExportServices;
  /** The audit chain, read through its owner (in the export's snapshot `exec`). */
  audit: Pick<AuditStore, 'entriesAfter'>;
  orgId: OrgId;
  dir: string;
  now: number;
}): Promise<{ name: string; rows: number }[]> {
  const { orgId, dir } = deps;
  const orgs = createOrgStore(deps.db);
  const files: { name: string; rows: number }[] = [];

  async function writeFile(name: string, pages: AsyncIterable<unknown[]> | Iterable<unknown[]>) {
    const out = createWriteStream(join(dir, name));
    let rows = 0;
    for await (const page of pages)
      for (const r of page) {
        if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
        rows++;
      }
    out.end();
    await once(out, 'finish');
    files.push({ name, rows });
  }

  /** Pages of a table's org rows, by `id` when it has one, else by the row's physical order. */
  async function* pagesOf(exec: Exec, table: string, hasId: boolean, map: (r: Row) => unknown = (r) => r) {
    let after: string | null = null;
    let offset = 0;
    for (;;) {
      // Any org table, named at run time: typed as one of them, read as plain rows.
      let q = orgScope(exec, orgId)
        .selectFrom(table as 'agents')
        .selectAll();
      if (hasId) {
        if (after !== null) q = q.where('id', '>', after);
        q = q.orderBy('id').limit(PAGE);
      } else {
        const order = deps.dialect === 'sqlite' ? sql`rowid` : sql`tableoid, ctid`;
        q = q.orderBy(order).limit(PAGE).offset(offset);
      }
      const rows = (await q.execute()) as unknown as Row[];
      if (rows.length === 0) return;
      yield rows.map(map);
      if (rows.length < PAGE) return;
      after = String(rows[rows.length - 1]!.id);
      offset += rows.length;
    }
  }

  async function run(exec: Exec) {
    const org = await orgs.forOrg(orgId, exec).getOrg();
    if (!org) throw new Error('the org no longer exists');
    await writeFile('org.jsonl', [[toOrg(org)]]);
    await writeFile('members.jsonl', [await deps.services.members(orgId)]);
    await writeFile('teams.jsonl', [await deps.services.teams(orgId)]);
    await writeFile('invitations.jsonl', [await deps.services.invitations(orgId)]);
    await writeFile('api_keys.jsonl', [await deps.services.apiKeys(orgId)]);

    const agentNames = new Map<string, string>();
    await writeFile(
      'agents.jsonl',
      pagesOf(exec, 'agents', true, (r) => {
        agentNames.set(String(r.id), String(r.name));
        return toAgent(r as never, deps.secretBox);
      }),
    );
    await writeFile(
      'policies.jsonl',
      pagesOf(exec, 'policies', true, (r) => toPolicy(r as never)),
    );
    await writeFile(
      'runs.jsonl',
      pagesOf(exec, 'runs', true, (r) => toRun(r as never, agentNames.get(String(r.agent_id)) ?? '')),
    );
    await writeFile(
      'events.jsonl',
      pagesOf(exec, 'events', true, (r) => toEvent(r as never)),
    );
    await writeFile(
      'approvals.jsonl',
      pagesOf(exec, 'approvals', true, (r) => toApproval(r as never, deps.now)),
    );
    await writeFile('audit.jsonl', auditPages(exec));

    const covered = new Set([
      'members',
      'teams',
      'invitations',
      'api_keys',
      'agents',
      'policies',
      'runs',
      'events',
      'approvals',
      'audit_log',
    ]);
    for (const table of await orgScopedTables(deps.db, deps.dialect)) {
      if (covered.has(table)) continue;
      const columns = await columnsOf(exec, table);
      const strip = (r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => !SECRET_COLUMN.test(k)));
      await writeFile(`${table}.jsonl`, pagesOf(exec, table, columns.includes('id'), strip));
    }
  }

  async function* auditPages(exec: Exec) {
    let after = 0;
    for (;;) {
      const rows = await deps.audit.entriesAfter(exec, orgId, after, PAGE);
      if (rows.length === 0) return;
      yield rows.map(toAuditEntry);
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async function columnsOf(exec: Exec, table: string): Promise<string[]> {
    const r =
      deps.dialect === 'sqlite'
        ? await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(exec)
        : await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = ${table}`.execute(exec);
    return r.rows.map((x) => x.name);
  }

  if (deps.dialect === 'postgres') await deps.db.transaction().setIsolationLevel('repeatable read').execute(run);
  else await run(deps.db);
  return files;
}

/** Packs `names` from `dir` into a gzipped tar at `file`; returns its size and SHA-256. */
export async function packArchive(dir: string, names: string[], file: string) {
  mkdirSync(join(file, '..'), { recursive: true });
  const partial = `${file}.partial`;
  await createTar({ gzip: true, file: partial, cwd: dir, portable: true }, names);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer);
  renameSync(partial, file);
  return { size: statSync(file).size, sha256: hash.digest('hex') };
}

export function removeQuietly(path: string) {
  rmSync(path, { recursive: true, force: true });
}

/**
 * Copies the org's cold-storage archives (`<data dir>/archives/<org>/*.jsonl.gz`, written by retention)
 * into `dest`; returns them as files of the export, `cold/<name>`, with their row counts.
 */
export async function copyColdArchives(source: string, dest: string): Promise<{ name: string; rows: number }[]> {
  if (!existsSync(source)) return [];
  const out: { name: string; rows: number }[] = [];
  const names = readdirSync(source)
    .filter((n) => n.endsWith('.gz'))
    .sort();
  if (names.length) mkdirSync(dest, { recursive: true });
  for (const name of names) {
    copyFileSync(join(source, name), join(dest, name));
    let rows = 0;
    for await (const chunk of createReadStream(join(source, name)).pipe(createGunzip()))
      for (const byte of chunk as Buffer) if (byte === 10) rows++;
    out.push({ name: `cold/${name}`, rows });
  }
  return out;
}
