import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { MAIN_AUTOCHECKPOINT_PAGES } from './sqlite-checkpointer.ts';

const until = async (ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('SQLite checkpoints off the event loop', () => {
  it('a worker copies committed pages into the database file while the hub connection only keeps the backstop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const opened = openDatabase({ dataDir: dir });
    const sqlite = opened.sqlite!;
    const file = join(dir, 'hub.db');
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(MAIN_AUTOCHECKPOINT_PAGES);

    sqlite.exec('create table t (id integer primary key, body text not null)');
    const insert = sqlite.prepare('insert into t (body) values (?)');
    const batch = sqlite.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run('x'.repeat(1000));
    });
    const before = statSync(file).size;
    // ~2 MB in 100 commits: far under the backstop's 10,000 pages, so this connection never checkpoints.
    for (let i = 0; i < 100; i++) batch(20);

    // The worker's passive checkpoints copy every committed page into the file.
    await until(() => {
      const last = opened.checkpointer!.last();
      return !!last && last.log > 0 && last.checkpointed === last.log;
    });
    expect(statSync(file).size).toBeGreaterThan(before + 1_500_000);
    // Read through Kysely, as the hub does (its driver closes the connection only once it has used it).
    const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(opened.db);
    expect(rows).toEqual([{ n: 2000 }]);

    // Closing stops the worker first: the hub's connection is then the last one and removes the WAL.
    await opened.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
