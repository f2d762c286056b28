/**
 * An org's own model prices (overrides of the shipped price table). Prices are integer pico-USD per
 * token (= micro-USD per 1M tokens), so every price with up to 6 decimals in USD per 1M tokens is exact.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  const ts = 'bigint' as const;
  const pico = 'bigint' as const;

  await db.schema
    .createTable('price_overrides')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    // null: any provider.
    .addColumn('provider', 'text')
    // A model name or a `*` pattern, as the user wrote it.
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input', pico, (c) => c.notNull())
    .addColumn('cached_input', pico)
    .addColumn('cache_write', pico)
    .addColumn('output', pico, (c) => c.notNull())
    .addColumn('reasoning', pico)
    // 0: in force for every event.
    .addColumn('effective_from', ts, (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('price_overrides_org').on('price_overrides').column('org_id').execute();
}
