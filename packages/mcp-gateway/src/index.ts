/**
 * @module @agentops-hub/mcp-gateway
 * Embed the gateway in your own process, or run the `agentops-mcp-gateway` bin.
 *
 * @example
 * const upstream = await connectUpstream({ command: 'node my-server.js' });
 * const gateway = createGateway({ agentops: createAgentOps({ agent: 'McpBot' }), upstream, agent: 'McpBot' });
 * await gateway.createSession().server.connect(new StdioServerTransport());
 */
export { createGateway, type Gateway, type GatewayOptions, type GatewaySession } from './gateway.ts';
export { serveHttp } from './http.ts';
export { connectUpstream, splitCommand, type UpstreamSpec, upstreamEnv } from './upstream.ts';
