/**
 * Accounts, sessions and second factors are Better Auth's job: email + password with verification and
 * reset, TOTP 2FA with backup codes (or one-time codes by email), JWTs for API clients, Google and
 * Microsoft sign-in when configured. It shares the hub's Kysely connection and keeps its tables under
 * `auth_*`. Orgs, members, invitations and teams are the hub's own (platform/orgs), because they must be
 * audited in the same transaction and scoped by the same org handles as every other resource.
 */
import { createHmac } from 'node:crypto';
import { type BetterAuthOptions, betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { bearer, jwt, twoFactor } from 'better-auth/plugins';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { quiesceAuthContext, withQuiescentContext } from './auth-context-hooks.ts';
import type { SignupGate } from './signup-gate.ts';

/** Better Auth's cookies are named `agentops.*` (the rate limiter reads the two-factor one). */
export const AUTH_COOKIE_PREFIX = 'agentops';

export interface AuthMailer {
  send(mail: { to: string; subject: string; text: string; html?: string }): Promise<void>;
}

export function authOptions(
  config: Config,
  db: Db,
  mailer: AuthMailer,
  encryptionKey: Buffer,
  signupGate: SignupGate,
): BetterAuthOptions {
  // A stable secret derived from the encryption key, so sessions survive restarts without another setting.
  const secret = config.authSecret ?? createHmac('sha256', encryptionKey).update('better-auth-secret').digest('hex');
  const socialProviders: BetterAuthOptions['socialProviders'] = {};
  if (config.oauth.google) socialProviders.google = config.oauth.google;
  if (config.oauth.microsoft) socialProviders.microsoft = config.oauth.microsoft;

  return {
    appName: 'AgentOps Hub',
    baseURL: config.publicUrl,
    basePath: '/api/auth',
    secret,
    trustedOrigins: [config.publicUrl, ...config.corsOrigins],
    database: { db: db.db as any, type: db.dialect },
    user: { modelName: 'auth_user' },
    session: { modelName: 'auth_session', expiresIn: 60 * 60 * 24 * 7, updateAge: 60 * 60 * 24 },
    account: { modelName: 'auth_account' },
    verification: { modelName: 'auth_verification' },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: 10,
      // Sign-up signs the user in at once; the console reminds them until the email is verified.
      autoSignIn: true,
      requireEmailVerification: false,
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: async ({ user, url }) => {
        await mailer.send({
          to: user.email,
          subject: 'Reset your AgentOps Hub password',
          text: `Someone asked to reset the password of ${user.email}.\n\nReset it here (valid for one hour): ${url}\n\nIf it was not you, ignore this email.`,
        });
      },
    },
    emailVerification: {
      sendOnSignUp: true,
      autoSignInAfterVerification: true,
      sendVerificationEmail: async ({ user, url }) => {
        // The headless-init owner's address is the operator's own setting: init marks it verified, no mail.
        if (config.init.userEmail && user.email.toLowerCase() === config.init.userEmail.toLowerCase()) return;
        await mailer.send({
          to: user.email,
          subject: 'Verify your email for AgentOps Hub',
          text: `Welcome to AgentOps Hub.\n\nConfirm ${user.email} by opening: ${url}`,
        });
      },
    },
    socialProviders,
    // Every new account, by email or by Google or Microsoft sign-in, passes the sign-up policy first.
    databaseHooks: {
      user: {
        create: {
          before: async (user) => {
            await signupGate.check(user.email);
            return { data: user };
          },
        },
      },
    },
    // The hub rate-limits /api/auth itself (platform/rate-limit.ts), with the same 429 problem+json.
    rateLimit: { enabled: false },
    advanced: {
      cookiePrefix: AUTH_COOKIE_PREFIX,
      useSecureCookies: config.publicUrl.startsWith('https://'),
      ipAddress: { ipAddressHeaders: config.trustProxy ? ['x-forwarded-for'] : [] },
    },
    plugins: [
      twoFactor({
        issuer: 'AgentOps Hub',
        schema: { twoFactor: { modelName: 'auth_two_factor' } },
        otpOptions: {
          // Email one-time codes: the second factor for those without an authenticator app.
          sendOTP: async ({ user, otp }) => {
            await mailer.send({
              to: user.email,
              subject: `Your AgentOps Hub sign-in code: ${otp}`,
              text: `Your sign-in code is ${otp}. It expires in a few minutes.`,
            });
          },
        },
      }),
      jwt({ schema: { jwks: { modelName: 'auth_jwks' } } }),
      bearer(),
    ],
  };
}

/** Better Auth, its calls counted so that async hooks are off between them (auth-context-hooks.ts). */
export function createAuth(options: BetterAuthOptions) {
  const auth = withQuiescentContext(betterAuth(options));
  quiesceAuthContext(); // what the migrations (migrateAuth) left on
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;

/** Creates or updates Better Auth's tables (idempotent). */
export async function migrateAuth(options: BetterAuthOptions) {
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
}

/** The user a pending two-factor challenge belongs to: the rate limiter counts 2FA attempts per account. */
export function createTwoFactorChallengeLookup(db: Db) {
  // Better Auth's own table, outside the hub's typed schema.
  const auth = db.db as unknown as Kysely<Record<string, { identifier: string; value: string }>>;
  return {
    async userOfTwoFactorChallenge(identifier: string): Promise<string | undefined> {
      const row = await auth
        .selectFrom('auth_verification')
        .select('value')
        .where('identifier', '=', identifier)
        .executeTakeFirst();
      return row?.value;
    },
  };
}
