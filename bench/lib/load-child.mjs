/**
 * The load generator in a process of its own: `node bench/lib/load-child.mjs '<options as JSON>'` runs
 * autocannon and prints its result as one JSON line. A fresh process per measurement keeps the client
 * out of reach of whatever the bench process holds (a large heap after the in-process benchmarks slowed
 * the client, and with it the bare-server figure, by a quarter).
 *
 * `p99` is computed here from every 2xx answer's own latency (autocannon times each with hrtime), in
 * milliseconds to the microsecond. autocannon's summary keeps whole milliseconds only: at this machine's
 * 4–10 ms tails a ratio of two such p99s moved in steps of 15–25% with no change in the servers.
 */
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2]);
const latencies = [];
const r = await new Promise((resolve, reject) => {
  const instance = autocannon(
    {
      url: opts.url,
      method: 'POST',
      body: opts.body,
      headers: { 'content-type': 'application/json', ...opts.headers },
      connections: opts.connections ?? 50,
      duration: opts.seconds,
    },
    (error, result) => (error ? reject(error) : resolve(result)),
  );
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
  });
});
const sorted = Float64Array.from(latencies).sort();
const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0;
process.stdout.write(
  `${JSON.stringify({ ok: r['2xx'], non2xx: r.non2xx, p99: Math.round(p99 * 1000) / 1000, errors: r.errors })}\n`,
);
