/**
 * For a migration's test over a populated database of the version before it: a fresh test database
 * (SQLite, or PostgreSQL when the run asks for it), opened before the file's tests and dropped after.
 * The test migrates it to the version before the migration (`toPrevious`), fills it as that version
 * left it, then runs the migration alone (`toThis`) and reads what it did.
 */
import type { Db } from '../db/database.ts';
import { hubMigrationNames, migrateHub } from '../db/migrate.ts';
import { fileDatabase } from './file-db.ts';

export function migrationDatabase(migration: string) {
  const file = fileDatabase();
  const db = () => file.db;
  return {
    get db(): Db {
      return file.db;
    },
    /** Migrates to the version just before `migration`. */
    async toPrevious() {
      const names = hubMigrationNames();
      await migrateHub(db(), { to: names[names.indexOf(migration) - 1]! });
    },
    /** Runs `migration` (and nothing after it); returns the names it applied. */
    toThis: () => migrateHub(db(), { to: migration }),
  };
}
