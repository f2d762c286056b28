/** Types shared by the OTLP receivers (traces, logs) and the Langfuse receiver built on them. */
import type { IngestRunBody } from '@agentops-hub/contracts';
import type { Caller } from '../../../platform/caller.ts';

/** The part of the ingestion service the receiver needs. */
export interface OtlpIngestion {
  /** Throws AppError, or answers `{errors}`, for a run it refuses. */
  ingestRun(
    caller: Caller,
    body: IngestRunBody,
  ): Promise<{ run_id?: string; events_accepted?: number; errors?: { path: string; message: string }[] }>;
  ingestEvents(
    caller: Caller,
    events: unknown[],
  ): Promise<{ accepted: number; rejected: { index: number; errors: unknown }[] }>;
  /** What an export rejected, for the `ingestion.error` notice (absent: nobody is told). */
  reportRejected?(
    orgId: Caller['orgId'],
    source: 'otlp',
    rejected: readonly { index: number; errors: { path: string; message: string }[] }[],
  ): void;
}
