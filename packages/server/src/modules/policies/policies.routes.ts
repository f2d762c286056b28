/**
 * `/v1/policies` (JSON, or YAML with `Content-Type: application/yaml`; `Accept: application/yaml` to
 * read one back as YAML), validate, simulate, versions and rollback; and `POST /v1/policy/evaluate`.
 */
import { DecisionSchema, EvaluateBody, PolicyBody } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HubContext } from '../../context.ts';
import { AppError, fieldErrorsOf } from '../../platform/errors.ts';
import { callerOf } from '../../platform/route-config.ts';
import { parsePolicyYaml, toYaml } from './engine/policy-yaml.ts';
import { SIMULATION_LIMITS } from './simulate.service.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });

export function registerPolicyRoutes(appIn: FastifyInstance, ctx: HubContext) {
  // YAML bodies are parsed in this plugin only, so nothing else accepts YAML by accident.
  appIn.register(async (scoped) => {
    scoped.addContentTypeParser(
      ['application/yaml', 'application/x-yaml', 'text/yaml'],
      { parseAs: 'string' },
      (_req, body, done) => {
        const parsed = parsePolicyYaml(String(body));
        if (parsed.ok) done(null, parsed.value);
        else done(new AppError('validation_failed', 'The YAML could not be read.', { errors: parsed.errors }));
      },
    );
    const app = scoped.withTypeProvider<ZodTypeProvider>();
    const wantsYaml = (accept: string | undefined) => /yaml/.test(accept ?? '');

    app.get(
      '/v1/policies',
      { config: { permission: 'policies:read' }, schema: { tags: ['policies'] } },
      async (req) => ({
        data: await ctx.policies.list(callerOf(req).orgId),
        next_cursor: null,
      }),
    );
    app.post(
      '/v1/policies',
      { config: { permission: 'policies:create' }, schema: { body: PolicyBody, tags: ['policies'] } },
      async (req, reply) => reply.status(201).send(await ctx.policies.create(callerOf(req), req.body)),
    );
    app.get(
      '/v1/policies/:id',
      { config: { permission: 'policies:read' }, schema: { params: IdParams, tags: ['policies'] } },
      async (req, reply) => {
        const p = await ctx.policies.get(callerOf(req).orgId, req.params.id);
        return wantsYaml(req.headers.accept) ? reply.type('application/yaml').send(toYaml(p as never)) : p;
      },
    );
    app.put(
      '/v1/policies/:id',
      { config: { permission: 'policies:edit' }, schema: { params: IdParams, body: PolicyBody, tags: ['policies'] } },
      async (req) => ctx.policies.update(callerOf(req), req.params.id, req.body),
    );
    app.delete(
      '/v1/policies/:id',
      { config: { permission: 'policies:edit' }, schema: { params: IdParams, tags: ['policies'] } },
      async (req, reply) => {
        await ctx.policies.remove(callerOf(req), req.params.id);
        return reply.status(204).send();
      },
    );
    app.get(
      '/v1/policies/:id/versions',
      { config: { permission: 'policies:read' }, schema: { params: IdParams, tags: ['policies'] } },
      async (req) => ({ data: await ctx.policies.versions(callerOf(req).orgId, req.params.id), next_cursor: null }),
    );
    app.post(
      '/v1/policies/:id/rollback',
      {
        config: { permission: 'policies:edit' },
        schema: { params: IdParams, body: z.object({ version: z.int().min(1) }), tags: ['policies'] },
      },
      async (req) => ctx.policies.rollback(callerOf(req), req.params.id, req.body.version),
    );
    app.post(
      '/v1/policies/validate',
      // Any body: the answer names every problem instead of refusing the request.
      { config: { permission: 'policies:read' }, schema: { tags: ['policies'] } },
      async (req) => {
        const r = PolicyBody.safeParse(req.body);
        return r.success ? { valid: true, errors: [] } : { valid: false, errors: fieldErrorsOf(r.error.issues) };
      },
    );
    app.post(
      '/v1/policies/simulate',
      {
        // As costly as the policy it runs, on rows the caller's agents wrote: the permission that writes a
        // policy (a team's, for team leads), not the one that reads. The simulator bounds rows and time.
        config: { permission: 'policies:create' },
        schema: {
          body: z.object({
            policy: PolicyBody.partial({ status: true, priority: true }),
            from: z.iso.datetime({ offset: true }),
            to: z.iso.datetime({ offset: true }),
            /** Recorded actions to examine at most (never more than the hub's limit, 10,000). */
            max_actions: z.int().min(1).max(SIMULATION_LIMITS.maxActions).optional(),
          }),
          tags: ['policies'],
        },
      },
      async (req) =>
        ctx.simulatePolicy(callerOf(req).orgId, req.body.policy, Date.parse(req.body.from), Date.parse(req.body.to), {
          maxActions: req.body.max_actions,
        }),
    );
  });

  const app = appIn.withTypeProvider<ZodTypeProvider>();
  app.post(
    '/v1/policy/evaluate',
    {
      config: { permission: 'policy:evaluate', rateBucket: 'ingest' },
      schema: { body: EvaluateBody, response: { 200: DecisionSchema }, tags: ['policies'] },
      // The schema types the answer and documents it; the evaluator builds exactly the contract's
      // `Decision` (evaluate-decide.ts `answerOf`, held to DecisionSchema by policies.test.ts), so it is
      // written with JSON.stringify rather than re-checked by zod on every call (~3 µs per answer).
      serializerCompiler: () => serializeDecision,
    },
    // Not async, and no promise on the hot path: the evaluator answers through a callback.
    (req, reply) => {
      ctx.evaluator.evaluate(callerOf(req), req.body, (error, answer) => {
        if (answer) reply.send(answer);
        // An error goes to the error handler (problem+json), as a thrown one would; the reply's type
        // names only the 200 answer, hence the cast.
        else reply.send(error as never);
      });
    },
  );
}

const serializeDecision = (answer: unknown) => JSON.stringify(answer);
