/**
 * A real HTTP receiver for the hub's webhooks in tests: every POST is kept with its path, its
 * `x-hub-event` header and its JSON body. Each org's webhook gets its own path, so tests filter by it.
 */
import { createServer } from 'node:http';

export interface WebhookHit {
  path: string;
  event: string;
  /** The delivered JSON, read field by field by the tests. */
  body: any;
}

export async function startWebhookReceiver() {
  const hits: WebhookHit[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      hits.push({ path: req.url ?? '', event: String(req.headers['x-hub-event'] ?? ''), body: JSON.parse(data) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    hits,
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
