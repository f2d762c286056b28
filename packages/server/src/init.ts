/**
 * Headless first start: with HUB_INIT_ORG_NAME, HUB_INIT_USER_EMAIL, HUB_INIT_USER_PASSWORD and
 * optionally HUB_INIT_API_KEY, the hub creates that owner, org and `full` key once. Idempotent: on a
 * later start each piece that already exists is left alone (a changed password is not overwritten).
 */
import type { HubContext } from './context.ts';
import { hashApiKey } from './platform/api-keys/api-key-format.ts';
import { createApiKeyStore } from './platform/api-keys/api-keys.store.ts';
import type { Caller } from './platform/caller.ts';
import { permissionsForRole } from './platform/rbac.ts';

export async function headlessInit(ctx: HubContext): Promise<{ created: string[] } | null> {
  const { orgName, userEmail, userPassword, apiKey } = ctx.config.init;
  if (!orgName || !userEmail) return null;
  const created: string[] = [];
  const email = userEmail.toLowerCase();

  let user = await ctx.orgs.userByEmail(email);
  if (!user) {
    if (!userPassword) throw new Error('HUB_INIT_USER_PASSWORD is needed to create the first user');
    await ctx.auth.api.signUpEmail({ body: { email, password: userPassword, name: email.split('@')[0]! } });
    user = await ctx.orgs.userByEmail(email);
    if (!user) throw new Error('headless init: the user could not be created');
    // The operator configured this address, so it counts as verified (and gets no verification mail).
    await ctx.orgs.markEmailVerified(user.id);
    created.push('user');
  }
  const sessionUser = { userId: user.id, email: user.email, name: user.name };

  const memberships = await ctx.orgs.memberships(user.id);
  let membership = memberships.find((m) => m.org_name === orgName && m.role === 'owner');
  if (!membership) {
    await ctx.orgs.create(sessionUser, { name: orgName });
    membership = (await ctx.orgs.memberships(user.id)).find((m) => m.org_name === orgName)!;
    created.push('org');
  }

  if (apiKey) {
    const exists = await createApiKeyStore(ctx.db.db).findByHash(hashApiKey(apiKey));
    if (!exists) {
      const caller: Caller = {
        orgId: membership.org_id,
        orgName,
        actor: { type: 'system', id: null, name: 'headless init' },
        userId: user.id,
        memberId: membership.member_id,
        role: 'owner',
        teamIds: [],
        permissions: permissionsForRole('owner'),
      };
      await ctx.apiKeys.create(caller, { name: 'Initial key (HUB_INIT_API_KEY)', scopes: ['full'] }, apiKey);
      created.push('api_key');
    }
  }
  return { created };
}
