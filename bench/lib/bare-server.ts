/** The raw HTTP limit for benchmarks: a bare Fastify JSON route, in its own process like the hub. */
import Fastify from 'fastify';

const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
app.get('/healthz', async () => ({ ok: true }));
app.post('/ingest', async (req, reply) =>
  reply.status(202).send({ accepted: Array.isArray((req.body as { events?: unknown[] })?.events) ? 1 : 0 }),
);
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
