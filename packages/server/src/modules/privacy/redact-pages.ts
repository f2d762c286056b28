/**
 * @module redact-pages
 * One bounded page of the re-redaction job per call, for each table that holds content: runs (input,
 * output, error, metadata, and their search index), events (payload), decisions (action, context) and
 * approvals (action). A page reads up to `PAGE` rows after the cursor (keyset, so a page costs the same
 * at the end of a big table as at its start) and rewrites the rows whose content changes.
 *
 * Each row is rewritten by compare-and-set on the values it was read with: a row that ingestion changed
 * in between (a run's output arriving) is read again and redacted from its new values, so a concurrent
 * write is never overwritten by a stale one. The tables belong to the ingestion, policies and approvals
 * modules, so each page goes through its owner's door (a `rewrite…` function given the new content); what
 * stays here is what the content becomes.
 */
import type { Dialect } from '../../db/database.ts';
import type { Exec } from '../../db/org-scope.ts';
import type { OrgId } from '../../platform/caller.ts';
import { rewriteApprovalActions } from '../approvals/index.ts';
import { rewriteEventPayloads, rewriteRunContent } from '../ingestion/index.ts';
import { rewriteDecisionContent } from '../policies/index.ts';
import type { Redactor } from './redactor.ts';
import {
  redactActionJson,
  redactContextJson,
  redactJsonColumn,
  redactMetadata,
  redactPayload,
} from './stored-content.ts';

export const PAGE = 200;
/** Times a row changed under us is read again before the page gives up on it (and fails the attempt). */
const RETRIES = 3;

export type Cursor = { id: string; ts?: number } | null;
export interface PageResult {
  /** Where the next page starts; null when the table is done. */
  next: Cursor;
  scanned: number;
  changed: number;
}

/** Runs: content columns, then the run's search index (SQLite FTS row, PostgreSQL tsvector): ingestion door. */
export async function runsPage(
  db: Exec,
  dialect: Dialect,
  orgId: OrgId,
  red: Redactor,
  after: Cursor,
): Promise<PageResult> {
  const page = await rewriteRunContent(db, dialect, orgId, after?.id ?? '', PAGE, RETRIES, (row) => {
    const next = {
      input: redactJsonColumn(red, row.agent_id, row.input),
      output: redactJsonColumn(red, row.agent_id, row.output),
      error: redactJsonColumn(red, row.agent_id, row.error),
      metadata: redactMetadata(red, row.agent_id, row.metadata),
    };
    const same =
      next.input === row.input &&
      next.output === row.output &&
      next.error === row.error &&
      next.metadata === row.metadata;
    return same ? null : next;
  });
  return pageResult(page);
}

/** Events: the payload (ingestion door; keyset on (id, ts), compare-and-set on the payload read). */
export async function eventsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const from = after === null ? null : { id: after.id, ts: after.ts ?? 0 };
  const page = await rewriteEventPayloads(db, orgId, from, PAGE, RETRIES, (row) => {
    const payload = redactPayload(red, row.agent_id, row.payload);
    return payload === row.payload ? null : payload;
  });
  return { next: page.scanned < PAGE ? null : page.last, scanned: page.scanned, changed: page.changed };
}

/** Decisions: the action and the caller's context, as the agent's capture level keeps them (policies door). */
export async function decisionsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const page = await rewriteDecisionContent(db, orgId, after?.id ?? '', PAGE, (row) => {
    const action = redactActionJson(red, row.agent_id, row.action);
    const context = redactContextJson(red, row.agent_id, row.context);
    return action === row.action && context === row.context ? null : { action, context };
  });
  return pageResult(page);
}

/** Approvals: the action approvers are shown (approvals door). */
export async function approvalsPage(db: Exec, orgId: OrgId, red: Redactor, after: Cursor): Promise<PageResult> {
  const page = await rewriteApprovalActions(db, orgId, after?.id ?? '', PAGE, (row) => {
    const action = redactActionJson(red, row.agent_id, row.action);
    return action === row.action ? null : action;
  });
  return pageResult(page);
}

/** A page rewritten through its owner's door, as a `PageResult`. */
function pageResult(p: { scanned: number; changed: number; lastId: string | null }): PageResult {
  return {
    next: p.scanned < PAGE || p.lastId === null ? null : { id: p.lastId },
    scanned: p.scanned,
    changed: p.changed,
  };
}
