/**
 * For a migration's test over a populated database of the version before it: a fresh test database
 * (SQLite, or PostgreSQL when the run asks for it), opened before the file's tests and dropped after.
 * The test migrates it to the version before the migration (`toPrevious`), fills it as that version
 * left it, then runs the migration alone (`toThis`) and reads what it did.
 */
import { afterAll, beforeAll } from 'vitest';
import { type Db, openDatabase } from '../db/database.ts';
import { hubMigrationNames, migrateHub } from '../db/migrate.ts';
import { createTestDatabase } from './test-db.ts';

export function migrationDatabase(migration: string) {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const t = await createTestDatabase();
    drop = t.drop;
    db = openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });
  return {
    get db(): Db {
      return db;
    },
    /** Migrates to the version just before `migration`. */
    async toPrevious() {
      const names = hubMigrationNames();
      await migrateHub(db, { to: names[names.indexOf(migration) - 1]! });
    },
    /** Runs `migration` (and nothing after it); returns the names it applied. */
    toThis: () => migrateHub(db, { to: migration }),
  };
}
