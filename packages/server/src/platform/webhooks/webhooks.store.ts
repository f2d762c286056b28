/**
 * SQL for webhooks and their deliveries. Every query goes through `forOrg(orgId)`, so a webhook id of
 * another org simply is not found. Delivery jobs carry their org id and reopen the same handle.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';

type Exec = Kysely<Database> | Transaction<Database>;

export function createWebhookStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      return {
        insert: (row: Omit<WebhooksTable, 'org_id'>) =>
          exec
            .insertInto('webhooks')
            .values({ ...row, org_id: orgId })
            .execute(),
        list: () => exec.selectFrom('webhooks').selectAll().where('org_id', '=', orgId).orderBy('id', 'desc').execute(),
        listActive: () =>
          exec.selectFrom('webhooks').selectAll().where('org_id', '=', orgId).where('active', '=', 1).execute(),
        get: (id: string) =>
          exec.selectFrom('webhooks').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst(),
        /** Deliveries go with it (foreign key on delete cascade). */
        remove: (id: string) =>
          exec.deleteFrom('webhooks').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst(),

        insertDelivery: (row: Omit<WebhookDeliveriesTable, 'org_id'>) =>
          exec
            .insertInto('webhook_deliveries')
            .values({ ...row, org_id: orgId })
            .execute(),
        getDelivery: (id: string) =>
          exec
            .selectFrom('webhook_deliveries')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('id', '=', id)
            .executeTakeFirst(),
        updateDelivery: (id: string, set: Partial<Omit<WebhookDeliveriesTable, 'id' | 'org_id' | 'webhook_id'>>) =>
          exec.updateTable('webhook_deliveries').set(set).where('org_id', '=', orgId).where('id', '=', id).execute(),
        /** Newest first; `cursor` is the last id of the previous page. */
        listDeliveries: (webhookId: string, limit: number, cursor?: string) => {
          let q = exec
            .selectFrom('webhook_deliveries')
            .selectAll()
            .where('org_id', '=', orgId)
            .where('webhook_id', '=', webhookId);
          if (cursor) q = q.where('id', '<', cursor);
          return q.orderBy('id', 'desc').limit(limit).execute();
        },
      };
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
