/**
 * HTTP routes of hosted MCP endpoints. Registering, listing and deleting need `integrations:read` /
 * `integrations:manage`, as webhooks do (both make the hub reach out for the org). The endpoint itself,
 * `/v1/mcp-endpoints/{id}/mcp`, is MCP Streamable HTTP (POST, GET for the server's stream, DELETE to end a
 * session) for API keys that may ask for decisions (`policy:evaluate`, as agent keys may). Another org's
 * endpoint id answers 404.
 */
import { CreateMcpEndpointBody, McpEndpointSchema, pageOf } from '@agentops-hub/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callerOf } from '../../platform/route-config.ts';
import type { McpEndpointService } from './mcp-endpoints.service.ts';
import type { McpHosting } from './mcp-hosting.ts';

const IdParams = z.object({ id: z.string().min(1).max(100) });

export function registerMcpEndpointRoutes(
  app: FastifyInstance,
  deps: { mcpEndpoints: McpEndpointService; mcpHosting: McpHosting },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['mcp-endpoints'];

  r.get(
    '/v1/mcp-endpoints',
    { schema: { tags, response: { 200: pageOf(McpEndpointSchema) } }, config: { permission: 'integrations:read' } },
    // At most ORG_CAPS['MCP endpoints'] (platform/org-caps.ts): one page, no cursor.
    async (request) => ({ data: await deps.mcpEndpoints.list(callerOf(request).orgId), next_cursor: null }),
  );

  r.post(
    '/v1/mcp-endpoints',
    {
      schema: {
        tags,
        description:
          'Registers a remote MCP server (Streamable HTTP) that the hub serves behind its policy gateway at `mcp_path`. ' +
          'The upstream headers are sealed at rest and never shown again (only their names).',
        body: CreateMcpEndpointBody,
        response: { 201: McpEndpointSchema },
      },
      config: { permission: 'integrations:manage' },
    },
    async (request, reply) => reply.status(201).send(await deps.mcpEndpoints.create(callerOf(request), request.body)),
  );

  r.get(
    '/v1/mcp-endpoints/:id',
    {
      schema: { tags, params: IdParams, response: { 200: McpEndpointSchema } },
      config: { permission: 'integrations:read' },
    },
    async (request) => deps.mcpEndpoints.get(callerOf(request).orgId, request.params.id),
  );

  r.delete(
    '/v1/mcp-endpoints/:id',
    {
      schema: { tags, params: IdParams, description: 'Deletes the endpoint and ends its open sessions.' },
      config: { permission: 'integrations:manage' },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await deps.mcpEndpoints.remove(caller, request.params.id);
      // This process's sessions end now; other processes' when the control bus tells them.
      deps.mcpHosting.closeEndpoint(caller.orgId, request.params.id);
      return reply.status(204).send();
    },
  );

  r.route({
    method: ['POST', 'GET', 'DELETE'],
    url: '/v1/mcp-endpoints/:id/mcp',
    schema: {
      tags,
      description:
        'The MCP endpoint (Streamable HTTP): connect an MCP client here with an API key as a bearer token. Every ' +
        '`tools/call` is decided by the org’s policies first; everything else the upstream offers passes through.',
      params: IdParams,
    },
    config: { permission: 'policy:evaluate', rateBucket: 'ingest' },
    handler: async (request, reply) => {
      await deps.mcpHosting.serve(request, reply, callerOf(request), request.params.id);
    },
  });
}
