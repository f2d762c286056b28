/**
 * SQL for in-app notifications and notification preferences, always through `forOrg(orgId)`.
 * Recipients (people's roles and addresses) come from the orgs store, which owns members: its store,
 * not its service, so the two modules do not depend on each other (orgs sends notifications too).
 */
import type { Kysely } from 'kysely';
import { type Exec, orgScope } from '../../db/org-scope.ts';
import type { Database, NotificationsTable } from '../../db/schema.ts';
import type { OrgId } from '../caller.ts';
import { createOrgStore } from '../orgs/orgs.store.ts';

export interface Recipient {
  user_id: string;
  role: string;
  email: string | null;
  name: string | null;
}

export function createNotificationStore(db: Kysely<Database>) {
  const orgs = createOrgStore(db);
  return {
    forOrg(orgId: OrgId, exec: Exec = db) {
      const scope = orgScope(exec, orgId);
      const people = orgs.forOrg(orgId, exec);

      return {
        /** Members holding one of `roles`. */
        membersWithRoles: (roles: string[]): Promise<Recipient[]> => people.people({ roles }),
        /** The given users, if they are members of this org (others are dropped, never notified). */
        membersByUserIds: (userIds: string[]): Promise<Recipient[]> =>
          userIds.length ? people.people({ userIds }) : Promise.resolve([]),

        insertMany: async (rows: Omit<NotificationsTable, 'org_id'>[]) => {
          if (rows.length) await scope.insertInto('notifications', rows).execute();
        },

        /** One person's notifications, newest first (ids sort by creation time). */
        listForUser: (userId: string, f: { unread: boolean; limit: number; cursor?: string }) => {
          let q = scope.selectFrom('notifications').selectAll().where('user_id', '=', userId);
          if (f.unread) q = q.where('read_at', 'is', null);
          if (f.cursor) q = q.where('id', '<', f.cursor);
          return q.orderBy('id', 'desc').limit(f.limit).execute();
        },

        /**
         * The org-wide feed: one row per notify() call, whatever the number of recipients (its rows share
         * type, title, body, entity and created_at). `read_at` is when anyone first read it.
         */
        listOrgWide: async (f: { unread: boolean; limit: number; cursor?: string }) => {
          let q = scope
            .selectFrom('notifications')
            .select((eb) => [
              eb.fn.min('id').as('first_id'),
              eb.fn.min('read_at').as('first_read_at'),
              'type',
              'title',
              'body',
              'entity_type',
              'entity_id',
              'created_at',
            ])
            .groupBy(['type', 'title', 'body', 'entity_type', 'entity_id', 'created_at']);
          if (f.unread) q = q.having((eb) => eb.fn.count('read_at'), '=', 0);
          if (f.cursor) q = q.having((eb) => eb.fn.min('id'), '<', f.cursor!);
          const rows = await q.orderBy('first_id', 'desc').limit(f.limit).execute();
          return rows.map(
            (r): NotificationsTable => ({
              id: String(r.first_id),
              org_id: orgId,
              user_id: '',
              type: r.type,
              title: r.title,
              body: r.body,
              entity_type: r.entity_type,
              entity_id: r.entity_id,
              created_at: Number(r.created_at),
              read_at: r.first_read_at === null ? null : Number(r.first_read_at),
            }),
          );
        },

        getForUser: (userId: string, id: string) =>
          scope
            .selectFrom('notifications')
            .selectAll()
            .where('user_id', '=', userId)
            .where('id', '=', id)
            .executeTakeFirst(),

        markRead: (userId: string, id: string, at: number) =>
          scope
            .updateTable('notifications')
            .set({ read_at: at })
            .where('user_id', '=', userId)
            .where('id', '=', id)
            .where('read_at', 'is', null)
            .execute(),

        markAllRead: async (userId: string, at: number) => {
          const res = await scope
            .updateTable('notifications')
            .set({ read_at: at })
            .where('user_id', '=', userId)
            .where('read_at', 'is', null)
            .executeTakeFirst();
          return Number(res.numUpdatedRows);
        },

        /** Preference rows of these users plus the org default (user_id ''). */
        prefsRows: (userIds: string[]) =>
          scope
            .selectFrom('notification_prefs')
            .select(['user_id', 'prefs'])
            .where('user_id', 'in', ['', ...userIds])
            .execute(),

        upsertPrefs: (userId: string, prefs: string, at: number) =>
          scope
            .insertInto('notification_prefs', { user_id: userId, prefs, updated_at: at })
            .onConflict((oc) => oc.columns(['org_id', 'user_id']).doUpdateSet({ prefs, updated_at: at }))
            .execute(),
      };
    },
  };
}

export type NotificationStore = ReturnType<typeof createNotificationStore>;
