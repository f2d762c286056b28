import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileDatabase } from '../testing/file-db.ts';
import { testDialect } from '../testing/test-db.ts';
import type { Db } from './database.ts';
import { createStatementCache } from './pg-statement-cache.ts';

describe('statement cache: which texts are named', () => {
  it('names a text on its third run, the same name each time, and another text its own', () => {
    const cache = createStatementCache();
    const text = 'select * from events where org_id = $1';
    expect([cache.nameFor(text), cache.nameFor(text)]).toEqual([undefined, undefined]);
    const name = cache.nameFor(text);
    expect(name).toMatch(/^hub_[0-9a-f]{24}$/);
    expect(cache.nameFor(text)).toBe(name);
    const other = 'select * from runs where org_id = $1';
    for (let i = 0; i < 3; i++) cache.nameFor(other);
    expect(cache.nameFor(other)).not.toBe(name);
    expect(cache.named).toBe(2);
  });

  it('names at most 256 texts in a process; the others stay unnamed', () => {
    const cache = createStatementCache();
    for (let i = 0; i < 300; i++) for (let k = 0; k < 3; k++) cache.nameFor(`select ${i} where $1 = 1`);
    expect(cache.named).toBe(256);
    expect(cache.nameFor('select 299 where $1 = 1')).toBeUndefined();
    expect(cache.nameFor('select 0 where $1 = 1')).toMatch(/^hub_/);
  });
});

if (testDialect() === 'postgres') {
  describe('statement cache on PostgreSQL: repeated statements are prepared on the connection', () => {
    // One connection, so the session's prepared statements are the ones every query below used.
    const file = fileDatabase({ poolSize: 1 });
    let db: Db;
    beforeAll(async () => {
      db = file.db;
      await sql`create table cache_probe (id integer primary key, label text)`.execute(db.db);
      await sql`insert into cache_probe values (1, 'one'), (2, 'two')`.execute(db.db);
    });
    const prepared = async () =>
      (
        await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(
          db.db,
        )
      ).rows;
    const byId = (id: number) =>
      db.db
        .selectFrom('cache_probe' as never)
        .selectAll()
        .where('id' as never, '=', id as never);

    it('a statement run three times is named and answers as before; one run once is not', async () => {
      const answers = [];
      for (const id of [1, 2, 1, 2]) answers.push(await byId(id).execute());
      expect(answers.map((r) => (r[0] as { label: string }).label)).toEqual(['one', 'two', 'one', 'two']);
      await sql`select label from cache_probe where id = ${2} and label <> ${'x'}`.execute(db.db);
      const names = await prepared();
      expect(names.filter((p) => p.statement.includes('"cache_probe"'))).toHaveLength(1);
      expect(names[0]!.name).toMatch(/^hub_/);
      expect(names.some((p) => p.statement.includes('label <> $2'))).toBe(false);
    });

    it('a table changed under a prepared select * is read again unnamed, with its new column', async () => {
      for (let i = 0; i < 3; i++) await byId(1).execute();
      await sql`alter table cache_probe add column extra text default 'new'`.execute(db.db);
      const [row] = await byId(1).execute();
      expect(row).toEqual({ id: 1, label: 'one', extra: 'new' });
      // And prepared again afterwards, on the new shape.
      for (let i = 0; i < 3; i++) expect((await byId(2).execute())[0]).toEqual({ id: 2, label: 'two', extra: 'new' });
    });
  });
}
