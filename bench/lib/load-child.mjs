/**
 * The load generator in a process of its own: `node bench/lib/load-child.mjs '<options as JSON>'` runs
 * autocannon and prints its result as one JSON line. A fresh process per measurement keeps the client
 * out of reach of whatever the bench process holds (a large heap after the in-process benchmarks slowed
 * the client, and with it the bare-server figure, by a quarter).
 */
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2]);
const r = await autocannon({
  url: opts.url,
  method: 'POST',
  body: opts.body,
  headers: { 'content-type': 'application/json', ...opts.headers },
  connections: opts.connections ?? 50,
  duration: opts.seconds,
});
process.stdout.write(`${JSON.stringify({ ok: r['2xx'], non2xx: r.non2xx, p99: r.latency.p99, errors: r.errors })}\n`);
