/**
 * @module @agentops-hub/sdk (browser)
 * The browser entry point: no Node APIs. Buffered telemetry is sent with `keepalive` when the page is hidden,
 * so it survives navigation. Configure with options (browsers have no environment variables).
 *
 * @example
 * import { createAgentOps } from '@agentops-hub/sdk';
 * const agentops = createAgentOps({ hubUrl: 'https://hub.example', apiKey: key, agent: 'WebAssistant' });
 */
import { setPlatform } from './platform.ts';

setPlatform({
  onExit: (flush) => {
    const g = globalThis as unknown as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
      document?: { visibilityState?: string };
    };
    const onHide = () => void flush(true);
    const onVisibility = () => {
      if (g.document?.visibilityState === 'hidden') void flush(true);
    };
    g.addEventListener?.('pagehide', onHide);
    g.addEventListener?.('visibilitychange', onVisibility);
    return () => {
      g.removeEventListener?.('pagehide', onHide);
      g.removeEventListener?.('visibilitychange', onVisibility);
    };
  },
});

export * from './exports.ts';
