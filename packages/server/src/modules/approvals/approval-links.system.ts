/**
 * System path: the org of a one-click approval link. The token is HMAC-signed by this hub
 * (approval-links.ts) and verified before this is called, so the org it names was written by the hub
 * when it mailed the link, not by whoever holds it: the id is trusted here and nowhere else.
 */
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';
import type { LinkPayload } from './approval-links.ts';

/** The org of a verified link token (`verifyLinkToken`'s answer). */
export const linkOrgId = (verified: LinkPayload): OrgId => trustedOrgId(verified.org_id);
