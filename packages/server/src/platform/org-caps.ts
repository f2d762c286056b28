/**
 * How many of each kind of configuration one org may keep. Whatever a tenant sends is hostile: without a
 * cap, one org (or one leaked admin key in a loop) could create a million alert rules, which every hub
 * process would then evaluate each minute for everyone, or a million webhooks to fan each event out to,
 * and each list of them would answer in one body. The numbers are far above what a business uses (the
 * policy engine is measured at 1,000 policies) and are checked when an object is created, in the
 * creating transaction. Under concurrent creates on PostgreSQL the count can pass the cap by the
 * number of requests in flight, which the API key's rate limit bounds.
 */
import { AppError } from './errors.ts';

export const ORG_CAPS = {
  policies: 2000,
  budgets: 1000,
  'alert rules': 200,
  webhooks: 50,
  reports: 50,
  'active API keys': 1000,
  'MCP endpoints': 50,
  teams: 500,
  // Each invitation sends an email to an address the inviter chose: the cap keeps the hub from being a
  // mail relay for whoever holds members:manage. Counted over a day whatever became of them, so
  // revoking and inviting again does not get round it.
  'invitations a day': 100,
  // Each export reads every row the org has, in one long transaction, and keeps an archive on disk.
  'exports a day': 5,
  'price overrides': 500,
} as const;

export type CappedKind = keyof typeof ORG_CAPS;

/** Refuses (409 `conflict`, naming the cap) a create that would pass the org's cap on `kind`. */
export async function assertBelowOrgCap(kind: CappedKind, count: () => Promise<number>) {
  const max = ORG_CAPS[kind];
  if ((await count()) >= max) throw new AppError('conflict', `An organization can have at most ${max} ${kind}.`);
}
