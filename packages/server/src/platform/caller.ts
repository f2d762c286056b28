/**
 * Who is calling, resolved once per request by the auth hook before any handler runs. The `OrgId`
 * brand can only be minted here (and by system jobs via `systemOrgId`), so a store cannot be handed
 * an org id that did not come from authentication.
 */
import type { Actor, KeyScope, Permission, Role } from '@agentops-hub/contracts';

declare const orgIdBrand: unique symbol;
export type OrgId = string & { readonly [orgIdBrand]: true };

/** For the auth hook and for cross-org system jobs only. */
export const trustedOrgId = (id: string) => id as OrgId;

export interface Caller {
  orgId: OrgId;
  orgName: string;
  actor: Actor;
  userId?: string;
  memberId?: string;
  role?: Role;
  teamIds: string[];
  keyId?: string;
  scopes?: KeyScope[];
  /**
   * Set for an API key bound to agents: the only agents it may act as (see agent-resolver.ts), and
   * it reads only the approvals it asked for. Absent: any agent of the org.
   */
  agentIds?: ReadonlySet<string>;
  /** When the API key stops working (epoch ms), for a key made with `expires_at`: held connections end then. */
  keyExpiresAt?: number;
  permissions: ReadonlySet<Permission>;
}

/** A session caller that has not picked or created an org yet (only /v1/me, /v1/orgs allow this). */
export interface UserWithoutOrg {
  userId: string;
  email: string;
  name: string;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, name: 'AgentOps Hub' };
