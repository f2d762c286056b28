/**
 * `npm run -s example:mcp-server`: a small MCP server on stdio with two tools, `lookup_order` (read-only) and
 * `issue_refund` (destructive). Put the policy gateway in front of it to have the hub decide every call:
 *
 *   agentops-mcp-gateway --agent McpBot --upstream-command "npm run -s example:mcp-server"
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { issueRefund, lookupOrder } from './lib/shop.ts';

const server = new McpServer({ name: 'example-shop', version: '0.1.0' });

server.registerTool(
  'lookup_order',
  {
    title: 'Look up an order',
    description: 'Returns an order by its id (A-1, A-1001, A-2002).',
    inputSchema: { order_id: z.string().describe('the order id, e.g. A-1') },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  async ({ order_id }) => {
    const order = lookupOrder(order_id);
    if (!order) return { isError: true, content: [{ type: 'text', text: `no order ${order_id}` }] };
    return { content: [{ type: 'text', text: JSON.stringify(order) }] };
  },
);

server.registerTool(
  'issue_refund',
  {
    title: 'Refund an order',
    description: 'Refunds an amount (USD) of an order to the customer.',
    inputSchema: { order_id: z.string(), amount: z.number().positive().describe('USD') },
    annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
  },
  async ({ order_id, amount }) => {
    try {
      return { content: [{ type: 'text', text: JSON.stringify(issueRefund(order_id, amount)) }] };
    } catch (e) {
      return { isError: true, content: [{ type: 'text', text: (e as Error).message }] };
    }
  },
);

await server.connect(new StdioServerTransport());
