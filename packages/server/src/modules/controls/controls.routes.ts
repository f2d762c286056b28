/**
 * HTTP routes of the emergency controls: `/v1/agents/{id}/pause|resume` and `/v1/controls/*`. Bodies may
 * be left out entirely (a bare `POST …/resume` works); the service checks team ownership and permissions.
 */

import {
  CategorySchema,
  ControlsStateSchema,
  KillSwitchBody,
  PauseAgentBody,
  PauseCategoryBody,
  PausedAgentSchema,
  ResumeAgentBody,
} from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/route-config.ts';
import type { AgentService } from '../agents/index.ts';
import type { ControlService } from './controls.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(200) });
const CategoryParams = z.object({ category: CategorySchema });

export function registerControlRoutes(
  appIn: FastifyInstance,
  ctx: { controls: ControlService; agents: Pick<AgentService, 'get'> },
) {
  const app = appIn.withTypeProvider<ZodTypeProvider>();
  const { controls, agents } = ctx;
  const tags = ['controls'];

  /** The agent as `GET /v1/agents/{id}` shows it, with the pauses that hold it. */
  const pausedAgent = async (
    state: Awaited<ReturnType<ControlService['agentState']>>,
    orgId: Parameters<ControlService['get']>[0],
  ) => ({
    ...(await agents.get(orgId, state.agent_id)),
    pauses: state.pauses,
  });

  app.post(
    '/v1/agents/:id/pause',
    {
      // agents:pause passes with the team variant too; the service checks the team.
      config: { permission: 'agents:pause' },
      schema: { params: IdParams, body: PauseAgentBody.nullish(), response: { 200: PausedAgentSchema }, tags },
    },
    async (req) => {
      const caller = callerOf(req);
      const state = await controls.pauseAgent(caller, req.params.id, {
        reason: req.body?.reason,
        mode: req.body?.mode ?? 'block',
      });
      return pausedAgent(state, caller.orgId);
    },
  );

  app.post(
    '/v1/agents/:id/resume',
    {
      config: { permission: 'agents:pause' },
      schema: { params: IdParams, body: ResumeAgentBody.nullish(), response: { 200: PausedAgentSchema }, tags },
    },
    async (req) => {
      const caller = callerOf(req);
      const state = await controls.resumeAgent(caller, req.params.id, req.body?.source ?? 'manual');
      return pausedAgent(state, caller.orgId);
    },
  );

  app.get(
    '/v1/controls',
    { config: { permission: 'controls:read' }, schema: { response: { 200: ControlsStateSchema }, tags } },
    async (req) => controls.get(callerOf(req).orgId),
  );

  app.post(
    '/v1/controls/kill-switch',
    {
      config: { permission: 'controls:manage' },
      schema: { body: KillSwitchBody, response: { 200: ControlsStateSchema }, tags },
    },
    async (req) => controls.setKillSwitch(callerOf(req), req.body),
  );

  app.post(
    '/v1/controls/categories/:category/pause',
    {
      config: { permission: 'controls:manage' },
      schema: {
        params: CategoryParams,
        body: PauseCategoryBody.nullish(),
        response: { 200: ControlsStateSchema },
        tags,
      },
    },
    async (req) => controls.pauseCategory(callerOf(req), req.params.category, req.body?.reason),
  );

  app.post(
    '/v1/controls/categories/:category/resume',
    {
      config: { permission: 'controls:manage' },
      schema: { params: CategoryParams, response: { 200: ControlsStateSchema }, tags },
    },
    async (req) => controls.resumeCategory(callerOf(req), req.params.category),
  );
}
