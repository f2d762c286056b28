/**
 * Hosted MCP endpoints: the hub serves the MCP gateway itself, per org, in front of a remote MCP server
 * (Streamable HTTP). Clients connect to `/v1/mcp-endpoints/{id}/mcp` with one of the org's API keys; every
 * `tools/call` is decided by the hub's policies as through the `agentops-mcp-gateway` CLI.
 */
import { z } from 'zod';
import { IsoDate } from './common.ts';

/** An HTTP header name (RFC 9110 token), and names a hub must set itself. */
const HeaderName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name')
  .refine(
    (n) =>
      ![
        'host',
        'content-length',
        'content-type',
        'accept',
        'connection',
        'transfer-encoding',
        'mcp-session-id',
        'mcp-protocol-version',
        'last-event-id',
      ].includes(n.toLowerCase()),
    'a header the gateway sets itself',
  );
/** A header value without line breaks (no header injection). */
const HeaderValue = z
  .string()
  .max(4096)
  .regex(/^[^\r\n\0]*$/, 'no line breaks');

export const GovernedKinds = ['resources', 'prompts'] as const;

export const CreateMcpEndpointBody = z.object({
  name: z.string().trim().min(1).max(100),
  /** The agent the sessions run as: its name (made on first use, as ingestion does) or id. */
  agent: z.string().trim().min(1).max(200),
  upstream_url: z
    .string()
    .url()
    .max(2000)
    .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
  /** Sent to the upstream only (its credentials): sealed at rest, never shown again, never sent to clients. */
  upstream_headers: z
    .record(HeaderName, HeaderValue)
    .default({})
    .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers'),
  /** Also ask the hub before `resources/read` and `prompts/get`. Tool calls always are. */
  govern: z.array(z.enum(GovernedKinds)).max(2).default([]),
  description: z.string().max(500).default(''),
});
export type CreateMcpEndpointInput = z.infer<typeof CreateMcpEndpointBody>;

export const McpEndpointSchema = z.object({
  id: z.string(),
  name: z.string(),
  agent: z.string(),
  upstream_url: z.string(),
  /** The names of the upstream headers; their values are never shown. */
  upstream_header_names: z.array(z.string()),
  govern: z.array(z.enum(GovernedKinds)),
  description: z.string(),
  /** The path MCP clients connect to (Streamable HTTP), with an API key as a bearer token. */
  mcp_path: z.string(),
  created_at: IsoDate,
});
export type McpEndpoint = z.infer<typeof McpEndpointSchema>;
