/**
 * One error type for the whole hub. Services throw `AppError(code, …)`; the HTTP status comes from the
 * code and one Fastify error handler writes it as problem+json. Routes never translate errors by hand.
 */
import type { ErrorCode } from '@agentops-hub/contracts';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  agent_paused: 423,
  plan_limit_reached: 402,
  plan_feature_unavailable: 402,
  internal: 500,
};

const TITLE_BY_CODE: Record<ErrorCode, string> = {
  validation_failed: 'Your request is not valid',
  unauthenticated: 'Authentication required',
  forbidden: 'You are not allowed to do this',
  not_found: 'Not found',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  agent_paused: 'The agent is paused',
  plan_limit_reached: 'Plan limit reached',
  plan_feature_unavailable: 'Not included in your plan',
  internal: 'Internal error',
};

export interface FieldError {
  path: string;
  message: string;
}

/** A schema's issues as field errors, paths dotted as the contract names fields (`tags.0`). */
export function fieldErrorsOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { errors?: FieldError[]; retryAfterS?: number; [k: string]: unknown } = {},
  ) {
    super(message);
    this.status = STATUS_BY_CODE[code];
  }
  get title(): string {
    return TITLE_BY_CODE[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} was not found`);
export const forbidden = (why: string) => new AppError('forbidden', why);
export const invalid = (path: string, message: string) =>
  new AppError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });

export function titleFor(code: ErrorCode): string {
  return TITLE_BY_CODE[code];
}
