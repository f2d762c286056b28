/**
 * @module @agentops-hub/mcp-gateway
 * Embed the gateway in your own process, or run the `agentops-mcp-gateway` bin.
 *
 * @example
 * const upstream = upstreamConnector({ command: 'node my-server.js' }); // one connection per client session
 * const gateway = createGateway({ agentops: createAgentOps({ agent: 'McpBot' }), upstream, agent: 'McpBot' });
 * await gateway.createSession().server.connect(new StdioServerTransport());
 */
export { RelayEndpoint } from './endpoint.ts';
export {
  annotationsOf,
  createGateway,
  type Gateway,
  type GatewayOptions,
  type GatewaySession,
  type UpstreamConnector,
  type UpstreamInit,
} from './gateway.ts';
export { createSessionRouter, type McpSessionRouter, serveHttp } from './http.ts';
export { connectUpstream, splitCommand, type UpstreamSpec, upstreamConnector, upstreamEnv } from './upstream.ts';
