/**
 * @module endpoint
 * The gateway's side towards the MCP client: the SDK's JSON-RPC `Protocol` (ids, cancellation, progress,
 * timeouts, related-request routing on Streamable HTTP) without the SDK `Server`'s capability checks. The
 * `Server` class asserts that it declared a capability before it may send a notification or answer a method,
 * and fixes its capabilities before the client says hello; a gateway only knows them once the upstream has
 * answered its own `initialize`, and must relay whatever the upstream sends. So this endpoint checks nothing:
 * the upstream server is the one that decides what it supports.
 */
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Notification, Request, Result } from '@modelcontextprotocol/sdk/types.js';

/** A server-side MCP endpoint that relays: every method may be handled, sent or notified. */
export class RelayEndpoint extends Protocol<Request, Notification, Result> {
  protected assertCapabilityForMethod(): void {}
  protected assertNotificationCapability(): void {}
  protected assertRequestHandlerCapability(): void {}
  protected assertTaskCapability(): void {}
  protected assertTaskHandlerCapability(): void {}
}
