/**
 * The hosted MCP endpoints module's door: what other modules may use. Import from here, not from the
 * module's files (test/architecture.test.ts holds every module to this).
 */

export { registerMcpEndpointRoutes } from './mcp-endpoints.routes.ts';
export { createMcpEndpointService, type McpEndpointService } from './mcp-endpoints.service.ts';
export { createMcpHosting, type McpHosting } from './mcp-hosting.ts';
