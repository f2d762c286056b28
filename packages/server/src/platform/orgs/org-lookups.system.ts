/**
 * System path: the lookups that find an org before there is a caller of it, so they read across orgs
 * on purpose, and the one place the orgs module turns an org id into an `OrgId`:
 * - a signed-in user's memberships (a session becomes a caller of one of them: authentication),
 * - an invitation found by its link's token hash (holding the token is what lets its invitee join),
 * - a new org's id, minted when the org is created.
 */
import type { Kysely } from 'kysely';
import { newId } from '../../db/ids.ts';
import type { Database } from '../../db/schema.ts';
import { trustedOrgId } from '../caller.ts';

/** The id of an org being created now. */
export const newOrgId = (at: number) => trustedOrgId(newId('org', at));

export function orgLookups(db: Kysely<Database>) {
  return {
    /** Orgs a user belongs to, with their role: the org switcher and the session's default org. */
    membershipsOfUser: async (userId: string) =>
      (
        await db
          .selectFrom('members')
          .innerJoin('orgs', 'orgs.id', 'members.org_id')
          .select(['orgs.id as org_id', 'orgs.name as org_name', 'members.id as member_id', 'members.role'])
          .where('members.user_id', '=', userId)
          .orderBy('members.created_at', 'asc')
          .execute()
      ).map((m) => ({ ...m, org_id: trustedOrgId(m.org_id) })),
    /** An invitation link carries only its token; the token's hash finds it (and its org). */
    invitationByTokenHash: async (hash: string) => {
      const inv = await db.selectFrom('invitations').selectAll().where('token_hash', '=', hash).executeTakeFirst();
      return inv && { ...inv, org_id: trustedOrgId(inv.org_id) };
    },
  };
}
