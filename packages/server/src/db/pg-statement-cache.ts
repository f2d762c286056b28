/**
 * Named (prepared) statements for the SQL the hub runs again and again on PostgreSQL, as postgres.js and
 * pgx do by default. Kysely hands `pg` each query as text and values, which `pg` sends as an unnamed
 * statement: PostgreSQL parses it and plans it at every execution. For the ingestion batch (a statement of
 * data-modifying CTEs over `json_to_recordset`) that was 0.32 ms of 1.2 ms per batch (parse 0.17, bind and
 * plan 0.15; server log of bench/scaleout.ts at N = 1), and the smaller batches of a cluster pay it per
 * fewer events. A named statement is parsed once per connection, and after five executions PostgreSQL may
 * keep a generic plan, so binding it no longer plans.
 *
 * Which texts: one with parameters, once this process has run it `PREPARE_AFTER` times (a one-off query is
 * not worth a statement kept on every connection), up to `MAX_NAMED` texts per process. The name is a hash
 * of the text; `pg` remembers per connection which names it has parsed. `HUB_PG_PREPARE=off` turns this off
 * (for a pooler in transaction mode that does not carry prepared statements, such as PgBouncer before 1.21).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Runs of one text before it is named. */
const PREPARE_AFTER = 3;
/** Named texts per process, at most (each may be parsed on each pooled connection). */
const MAX_NAMED = 256;
/** Texts counted but not named yet, at most; past it the counts start again (one-off texts never pile up). */
const MAX_COUNTED = 5000;

/** PostgreSQL's error when a table changed under a prepared `select *`: the query is run again unnamed. */
const PLAN_CHANGED = '0A000';

type QueryFn = (text: unknown, values?: unknown, callback?: unknown) => unknown;

export interface StatementCache {
  /** The statement name for `text`, once it has earned one; undefined to send it unnamed. */
  nameFor(text: string): string | undefined;
  /** How many texts are named (tests, metrics). */
  readonly named: number;
}

export function createStatementCache(): StatementCache {
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  return {
    nameFor(text) {
      const name = names.get(text);
      if (name !== undefined || names.size >= MAX_NAMED) return name;
      const n = (counts.get(text) ?? 0) + 1;
      if (n < PREPARE_AFTER) {
        if (counts.size >= MAX_COUNTED) counts.clear();
        counts.set(text, n);
        return undefined;
      }
      counts.delete(text);
      // Lower-case hex: `deallocate` takes the name as an unquoted identifier.
      const named = `hub_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, named);
      return named;
    },
    get named() {
      return names.size;
    },
  };
}

const WRAPPED = Symbol('statement-cache');

/**
 * A pool for Kysely's `PostgresDialect` whose clients send the cache's texts as named statements. Only the
 * promise form of `query(text, values)` (the one Kysely uses) is named; anything else passes through.
 */
export function withStatementCache(pool: pg.Pool, cache: StatementCache = createStatementCache()) {
  const prepare = (client: pg.PoolClient) => {
    const marked = client as pg.PoolClient & { [WRAPPED]?: true };
    if (marked[WRAPPED]) return client;
    marked[WRAPPED] = true;
    const unnamed = client.query.bind(client) as QueryFn;
    (client as unknown as { query: QueryFn }).query = (text, values, callback) => {
      if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined)
        return unnamed(text, values, callback);
      const name = cache.nameFor(text);
      if (name === undefined) return unnamed(text, values);
      return (unnamed({ name, text, values }) as Promise<unknown>).catch(async (e: { code?: string }) => {
        if (e?.code !== PLAN_CHANGED) throw e;
        // Dropped on this connection (and forgotten by pg), so its next run parses the text anew.
        await unnamed(`deallocate ${name}`);
        delete (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection
          .parsedStatements[name];
        return unnamed(text, values);
      });
    };
    return client;
  };
  return {
    connect: async () => prepare(await pool.connect()),
    end: () => pool.end(),
  };
}
