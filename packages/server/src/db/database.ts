/**
 * Opens the hub's database: the embedded SQLite file under the data dir by default, PostgreSQL when
 * DATABASE_URL is set. Both go through one Kysely instance so every store is written once.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { withStatementCache } from './pg-statement-cache.ts';
import type { Database } from './schema.ts';
import { type Checkpointer, MAIN_AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpointer.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The raw better-sqlite3 handle (SQLite only): benchmarks and tests that poke the file use it. */
  sqlite?: SQLite.Database;
  pool?: pg.Pool;
  /** SQLite only: the worker thread that checkpoints the WAL. */
  checkpointer?: Checkpointer;
  close(): Promise<void>;
}

// int8 (bigint) columns hold epoch milliseconds and counters: all well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// numeric stays a string on purpose: money is kept as integers (costs in nano-USD, prices in pico-USD per token).

export function openDatabase(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL: send repeated statements as named ones (default on; see pg-statement-cache.ts). */
  prepare?: boolean;
}): Db {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client error (server restart) must not crash the hub; the pool reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: opts.prepare === false ? pool : withStatementCache(pool) }),
    });
    return { db, dialect: 'postgres', pool, close: () => db.destroy() };
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const file = join(opts.dataDir, 'hub.db');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL'); // durable across process crashes in WAL mode
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoints run in a worker thread; this connection's own is only the backstop (sqlite-checkpointer.ts).
  sqlite.pragma(`wal_autocheckpoint = ${MAIN_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    checkpointer,
    close: async () => {
      await checkpointer.stop();
      await db.destroy();
    },
  };
}
