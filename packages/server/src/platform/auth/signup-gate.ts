/**
 * Who may create an account (HUB_SIGNUP). On a self-hosted hub an open sign-up turns every weakness of
 * a tenant into an attack from the internet, so once the first owner exists the default is `invite`:
 * an account only for an address someone invited. The check runs in Better Auth's user-creation hook,
 * so email sign-up and Google or Microsoft sign-in are held to the same rule.
 */
import { APIError } from 'better-auth/api';
import type { SignupPolicy } from '../../config.ts';

export interface SignupGateDeps {
  policy: SignupPolicy;
  /** The headless-init owner's address: the operator's own setting, always allowed. */
  initEmail?: string;
  countUsers(): Promise<number>;
  hasOpenInvitationFor(email: string, now: number): Promise<boolean>;
  clock: () => number;
}

/** What the console's sign-up page tells a visitor (`GET /v1/setup/status`). */
export function describeSignup(policy: SignupPolicy): { signup: SignupPolicy['mode']; signup_domains?: string[] } {
  return policy.mode === 'domain' ? { signup: 'domain', signup_domains: policy.domains } : { signup: policy.mode };
}

export function createSignupGate(deps: SignupGateDeps) {
  return {
    /** Throws Better Auth's FORBIDDEN (answered as problem+json 403) when this address may not sign up. */
    async check(rawEmail: string): Promise<void> {
      const email = rawEmail.trim().toLowerCase();
      if (deps.initEmail && email === deps.initEmail.toLowerCase()) return;
      // The first account of a hub becomes its owner, whatever the policy.
      if ((await deps.countUsers()) === 0) return;
      const { policy } = deps;
      if (policy.mode === 'open') return;
      if (policy.mode === 'domain' && policy.domains.includes(email.slice(email.lastIndexOf('@') + 1))) return;
      // An invitation opens the door under every policy.
      if (await deps.hasOpenInvitationFor(email, deps.clock())) return;
      throw new APIError('FORBIDDEN', {
        code: 'SIGNUP_NOT_ALLOWED',
        message:
          policy.mode === 'domain'
            ? `This hub accepts new accounts only for addresses at ${policy.domains.join(', ')}, or by invitation.`
            : 'This hub accepts new accounts by invitation only. Ask an admin of your organization to invite you.',
      });
    },
  };
}
export type SignupGate = ReturnType<typeof createSignupGate>;
