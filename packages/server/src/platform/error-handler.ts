/**
 * Writes every error as RFC 9457 problem+json: {type, title, status, detail, code, errors?, request_id}.
 * Fastify's own errors (bad JSON, body too large, schema validation) are mapped to the same codes.
 */
import type { ErrorCode } from '@agentops-hub/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type FieldError, STATUS_BY_CODE, titleFor } from './errors.ts';

/** The problem+json body of an error, without the request's id (also what a hosted gateway's in-process call reads). */
export function problemBody(code: ErrorCode, detail: string, errors?: FieldError[]) {
  return {
    type: `https://agentops-hub.dev/problems/${code.replace(/_/g, '-')}`,
    title: titleFor(code),
    status: STATUS_BY_CODE[code],
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
) {
  if (extra.headers) reply.headers(extra.headers);
  return reply
    .status(STATUS_BY_CODE[code])
    .type('application/problem+json')
    .send({ ...problemBody(code, detail, extra.errors), ...extra.extra, request_id: request.id });
}

function zodPath(instancePath: string, params: unknown): string {
  // fastify-type-provider-zod reports "/tags/0"; the contract names fields as "tags.0".
  const base = instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (params as { issue?: { path?: unknown[] } })?.issue?.path;
  if (!base && Array.isArray(missing) && missing.length) return missing.join('.');
  return base || '(root)';
}

const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** Reads and drops the rest of a request body (bounded in size and time), then calls `then`. */
function drainThen(raw: import('node:http').IncomingMessage, then: () => unknown) {
  const declared = Number(raw.headers['content-length'] ?? Number.NaN);
  if (raw.readableEnded || !(declared <= MAX_DRAIN_BYTES)) return then();
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(then());
    };
    const timer = setTimeout(finish, 10_000);
    raw.on('end', finish);
    raw.on('error', finish);
    raw.on('close', finish);
    raw.resume();
  });
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      const headers = error.details.retryAfterS ? { 'retry-after': String(error.details.retryAfterS) } : undefined;
      if (error.status >= 500) request.log.error({ err: error }, 'app error');
      return sendProblem(reply, request, error.code, error.message, { errors: error.details.errors, headers });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((v) => ({
        path: zodPath(v.instancePath, v.params),
        message: v.message ?? 'invalid',
      }));
      const where = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
      return sendProblem(
        reply,
        request,
        'validation_failed',
        `Invalid ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
        { errors },
      );
    }
    const fe = error as FastifyError;
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        // Answer once the client has finished sending: closing while it still writes makes it fail with
        // EPIPE before it reads the 413. Only bodies of a sane size are drained; bigger ones are cut off.
        return drainThen(request.raw, () =>
          sendProblem(reply, request, 'payload_too_large', 'The request body is larger than this hub accepts.'),
        );
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, request, 'validation_failed', `The body is not valid JSON: ${fe.message}`, {
          errors: [{ path: '(body)', message: 'not valid JSON' }],
        });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, request, 'validation_failed', `Unsupported content type: ${fe.message}`, {
          errors: [{ path: '(content-type)', message: 'unsupported media type' }],
        });
      case 'FST_ERR_RATE_LIMIT_EXCEEDED':
        return sendProblem(reply, request, 'rate_limited', fe.message);
    }
    if (fe.statusCode === 429) return sendProblem(reply, request, 'rate_limited', fe.message);
    if (fe.statusCode === 413) return sendProblem(reply, request, 'payload_too_large', fe.message);
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      if (fe instanceof SyntaxError || /JSON/i.test(fe.message)) {
        return sendProblem(reply, request, 'validation_failed', `The body is not valid JSON: ${fe.message}`, {
          errors: [{ path: '(body)', message: 'not valid JSON' }],
        });
      }
      const code: ErrorCode = fe.statusCode === 404 ? 'not_found' : 'validation_failed';
      return sendProblem(reply, request, code, fe.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      request,
      'internal',
      'Something went wrong on our side. The request id helps us find it.',
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}`),
  );
}
