/**
 * SQL for webhooks and their deliveries. Every query goes through `forOrg(orgId)`, so a webhook id of
 * another org simply is not found. Delivery jobs carry their org id and reopen the same handle.
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';

export function createWebhookStore(db: Kysely<Database>) {
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      return {
        insert: (row: Omit<WebhooksTable, 'org_id'>) => scope.insertInto('webhooks', row).execute(),
        count: () => scope.count('webhooks'),
        list: () => scope.selectFrom('webhooks').selectAll().orderBy('id', 'desc').execute(),
        listActive: () => scope.selectFrom('webhooks').selectAll().where('active', '=', 1).execute(),
        get: (id: string) => scope.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst(),
        /** Deliveries go with it (foreign key on delete cascade). */
        remove: (id: string) => scope.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst(),

        insertDelivery: (row: Omit<WebhookDeliveriesTable, 'org_id'>) =>
          scope.insertInto('webhook_deliveries', row).execute(),
        getDelivery: (id: string) =>
          scope.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst(),
        updateDelivery: (id: string, set: Partial<Omit<WebhookDeliveriesTable, 'id' | 'org_id' | 'webhook_id'>>) =>
          scope.updateTable('webhook_deliveries').set(set).where('id', '=', id).execute(),
        /** Newest first; `cursor` is the last id of the previous page. */
        listDeliveries: (webhookId: string, limit: number, cursor?: string) => {
          let q = scope.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
          if (cursor) q = q.where('id', '<', cursor);
          return q.orderBy('id', 'desc').limit(limit).execute();
        },
      };
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
