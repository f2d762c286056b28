/**
 * Run outcomes in the hourly rollups: `blocked` and `paused` count the failed runs an agent stopped on
 * purpose (a policy refusal, a pause or the kill switch; `runOutcome` in contracts), so the success rate
 * and the runs by outcome are read from rollups at any volume. `failed` keeps counting every failed run;
 * the two new columns are the part of it that was not a failure.
 *
 * Runs already counted are backfilled: their rollup hour gets its blocked/paused count, and their
 * `counted` snapshot says the outcome, so enrichment takes out exactly what it put in when the run
 * changes again. Runs past retention are gone; their hours keep 0 (shown as plain failures, as before).
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.ts';

const HOUR_MS = 3_600_000;

/** Frozen copy of contracts' `runOutcome` for failed runs (a migration must not change later). */
function stoppedAs(error: string): 'blocked' | 'paused' | null {
  let e: unknown;
  try {
    e = JSON.parse(error);
  } catch {
    return null;
  }
  const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (name.includes('Blocked')) return 'blocked';
  if (name.includes('Paused')) return 'paused';
  return null;
}

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('rollups_hourly')
    .addColumn('blocked', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('rollups_hourly')
    .addColumn('paused', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // Only failed runs whose error names a refusal or a pause can change; read them in pages by key.
  let after = { org: '', id: '' };
  for (;;) {
    const rows: { org_id: string; id: string; error: string; counted: string }[] = await db
      .selectFrom('runs')
      .select(['org_id', 'id', 'error', 'counted'])
      .where('status', '=', 'failed')
      .where('counted', 'is not', null)
      .where((eb) => eb.or([eb('error', 'like', '%Blocked%'), eb('error', 'like', '%Paused%')]))
      .where((eb) =>
        eb.or([eb('org_id', '>', after.org), eb.and([eb('org_id', '=', after.org), eb('id', '>', after.id)])]),
      )
      .orderBy('org_id')
      .orderBy('id')
      .limit(500)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const outcome = stoppedAs(r.error);
      const counted = JSON.parse(r.counted) as { agent: string; started: number; status: string };
      if (!outcome || counted.status !== 'failed') continue;
      await db
        .updateTable('runs')
        .set({ counted: JSON.stringify({ ...counted, status: outcome }) })
        .where('org_id', '=', r.org_id)
        .where('id', '=', r.id)
        .execute();
      await db
        .updateTable('rollups_hourly')
        .set({ [outcome]: sql`${sql.ref(outcome)} + 1` })
        .where('org_id', '=', r.org_id)
        .where('agent_id', '=', counted.agent)
        .where('hour', '=', Math.floor(Number(counted.started) / HOUR_MS) * HOUR_MS)
        .where('model', '=', '')
        .execute();
    }
    const last = rows[rows.length - 1]!;
    after = { org: last.org_id, id: last.id };
  }
}
