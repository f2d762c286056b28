/**
 * A fresh test database for one test file (SQLite, or PostgreSQL when the run asks for it), opened before
 * the file's tests and closed and dropped after them, for tests that work on the database without a hub.
 * @example
 * const file = fileDatabase();
 * it('…', async () => { await migrateHub(file.db); … });
 */
import { afterAll, beforeAll } from 'vitest';
import { type Db, openDatabase } from '../db/database.ts';
import { createTestDatabase } from './test-db.ts';

export function fileDatabase(opts: { poolSize?: number } = {}): { readonly db: Db } {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const t = await createTestDatabase();
    drop = t.drop;
    db = openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, poolSize: opts.poolSize });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });
  return {
    get db(): Db {
      return db;
    },
  };
}
