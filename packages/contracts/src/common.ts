/**
 * @module common
 * Shapes shared by every resource: problem errors, list pages, timestamps.
 */
import { z } from 'zod';

/** Stable error codes; the HTTP status is derived from the code. */
export const ErrorCodes = [
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'agent_paused',
  'plan_limit_reached',
  'plan_feature_unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** An RFC 9457 problem document as the hub writes it. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  code: z.enum(ErrorCodes),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  request_id: z.string().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** `?limit=&cursor=` on every list. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** `{data, next_cursor}` wrapper for a list of `item`. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });

export const IsoDate = z.string().describe('ISO-8601 UTC timestamp');

/** Tags: short lowercase-ish labels used by filters and policies. */
export const Tag = z.string().min(1).max(64);
