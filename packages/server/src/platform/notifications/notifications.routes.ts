/**
 * HTTP routes of notifications, notification preferences and the email outbox.
 *
 * Notifications belong to people. A signed-in user sees and marks their own. An API key is no person:
 * `GET /v1/notifications` then answers the org-wide feed (one entry per event, `read_at` = first read
 * by anyone), so scripts and the headless checks can watch what the hub announced; marking read and
 * preferences need a signed-in user and answer 403 to a key.
 */
import {
  NotificationPreferencesSchema,
  NotificationSchema,
  NotificationTopics,
  PageQuery,
  pageOf,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import type { Caller } from '../caller.ts';
import { AppError } from '../errors.ts';
import { callerOf } from '../route-config.ts';

const ListNotificationsQuery = PageQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

// Partial on purpose: a client changes one switch without restating the others.
// TODO(contracts): move to @agentops-hub/contracts as UpdateNotificationPreferencesBody.
const topicSwitches = z.partialRecord(z.enum(NotificationTopics), z.boolean());
const UpdatePreferencesBody = z.object({ in_app: topicSwitches.optional(), email: topicSwitches.optional() }).strict();

const OutboxEntrySchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string().nullable(),
  status: z.string(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
});

const IdParams = z.object({ id: z.string().min(1).max(100) });

function personOf(caller: Caller): string {
  if (!caller.userId)
    throw new AppError(
      'forbidden',
      'Read marks and notification preferences belong to a person: sign in to change them. An API key can list the org-wide feed with GET /v1/notifications.',
    );
  return caller.userId;
}

export function registerNotificationRoutes(app: FastifyInstance, ctx: Pick<HubContext, 'notifications' | 'mailer'>) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['notifications'];

  r.get(
    '/v1/notifications',
    {
      schema: {
        tags,
        description: 'In-app notifications, newest first. With an API key: the org-wide feed.',
        querystring: ListNotificationsQuery,
        response: { 200: pageOf(NotificationSchema) },
      },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const caller = callerOf(request);
      const { unread, limit, cursor } = request.query;
      return ctx.notifications.list(caller.orgId, caller.userId ?? null, { unread, limit, cursor });
    },
  );

  r.post(
    '/v1/notifications/:id/read',
    {
      schema: { tags, params: IdParams, response: { 200: NotificationSchema } },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const caller = callerOf(request);
      return ctx.notifications.markRead(caller.orgId, personOf(caller), request.params.id);
    },
  );

  r.post(
    '/v1/notifications/read-all',
    {
      schema: { tags, response: { 200: z.object({ updated: z.number().int() }) } },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const caller = callerOf(request);
      return ctx.notifications.markAllRead(caller.orgId, personOf(caller));
    },
  );

  r.get(
    '/v1/notification-preferences',
    {
      schema: { tags, response: { 200: NotificationPreferencesSchema } },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const caller = callerOf(request);
      return ctx.notifications.getPreferences(caller.orgId, personOf(caller));
    },
  );

  r.put(
    '/v1/notification-preferences',
    {
      schema: {
        tags,
        description: 'Turns topics on or off per channel for the signed-in user; absent switches keep their value.',
        body: UpdatePreferencesBody,
        response: { 200: NotificationPreferencesSchema },
      },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const caller = callerOf(request);
      return ctx.notifications.setPreferences(caller.orgId, personOf(caller), request.body);
    },
  );

  r.get(
    '/v1/email-outbox',
    {
      schema: {
        tags,
        description: "The org's outgoing email, newest first: with no SMTP configured, this is where mail is kept.",
        querystring: PageQuery,
        response: { 200: pageOf(OutboxEntrySchema) },
      },
      config: { permission: 'org:update' },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      return ctx.mailer.listOutbox(callerOf(request).orgId, limit, cursor);
    },
  );
}
