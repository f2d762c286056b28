/**
 * HTTP routes of the privacy settings: `/v1/privacy` (the org's capture level, detectors and rules, and
 * the latest re-redaction), `/v1/privacy/agents/{id}` (an agent's own capture level),
 * `POST /v1/privacy/test` (what a pasted payload would become; nothing is stored) and
 * `POST /v1/privacy/redact-stored` (re-redact what is already stored, as a job).
 */
import {
  AgentPrivacySchema,
  PrivacySettingsSchema,
  PrivacyTestBody,
  PutAgentPrivacyBody,
  PutPrivacyBody,
  RedactionJobSchema,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import type { PrivacyService } from './privacy.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });

export function registerPrivacyRoutes(appIn: FastifyInstance, ctx: { privacy: PrivacyService }) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { privacy } = ctx;
  const tags = ['privacy'];

  app.get(
    '/v1/privacy',
    { config: { permission: 'org:read' }, schema: { response: { 200: PrivacySettingsSchema }, tags } },
    async (req) => privacy.get(callerOf(req).orgId),
  );

  app.put(
    '/v1/privacy',
    {
      config: { permission: 'org:update' },
      schema: { body: PutPrivacyBody, response: { 200: PrivacySettingsSchema }, tags },
    },
    async (req) => privacy.put(callerOf(req), req.body),
  );

  app.get(
    '/v1/privacy/agents/:id',
    {
      config: { permission: 'agents:read' },
      schema: { params: IdParams, response: { 200: AgentPrivacySchema }, tags },
    },
    async (req) => privacy.getAgent(callerOf(req).orgId, req.params.id),
  );

  app.put(
    '/v1/privacy/agents/:id',
    // `agents:edit:team` passes too: the service lets team leads tighten their own teams' agents only.
    {
      config: { permission: 'agents:edit' },
      schema: { params: IdParams, body: PutAgentPrivacyBody, response: { 200: AgentPrivacySchema }, tags },
    },
    async (req) => privacy.putAgent(callerOf(req), req.params.id, req.body.capture),
  );

  app.post(
    '/v1/privacy/redact-stored',
    // The same permission as changing the settings: it rewrites what the org keeps.
    {
      config: { permission: 'org:update' },
      schema: { response: { 202: RedactionJobSchema }, tags },
    },
    async (req, reply) => reply.code(202).send(await privacy.redactStored(callerOf(req))),
  );

  app.post(
    '/v1/privacy/test',
    // The answer shows what is kept, hashes included: the same permission as reading content.
    { config: { permission: 'view_content' }, schema: { body: PrivacyTestBody, tags } },
    async (req) => {
      const caller = callerOf(req);
      // Not the team variant: the keyed hashes are org-wide, so the box would confirm a guessed value
      // of any team's hashed content.
      if (!caller.permissions.has('view_content'))
        throw new AppError('forbidden', 'Testing a sample needs the view_content permission on every agent.');
      return privacy.test(caller.orgId, req.body.payload, { capture: req.body.capture, agentId: req.body.agent_id });
    },
  );
}
