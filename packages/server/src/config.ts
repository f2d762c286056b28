/**
 * Configuration, read once from the environment. A bad value stops the hub with a message that names
 * the variable, instead of failing later in a confusing way.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  HUB_DATA_DIR: z.string().default('./data'),
  HUB_PUBLIC_URL: z.string().url().optional(),
  DATABASE_URL: z
    .string()
    .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// URL (leave it unset for the embedded SQLite)')
    .optional(),
  HUB_ENCRYPTION_KEY: z
    .string()
    .refine(
      (k) => Buffer.from(k, 'base64').length === 32 || /^[0-9a-f]{64}$/i.test(k),
      '32 bytes as base64 or 64 hex chars',
    )
    .optional(),
  HUB_AUTH_SECRET: z.string().min(32).optional(),
  HUB_INIT_ORG_NAME: z.string().min(1).optional(),
  HUB_INIT_USER_EMAIL: z.string().email().optional(),
  HUB_INIT_USER_PASSWORD: z.string().min(10, 'at least 10 characters').optional(),
  HUB_INIT_API_KEY: z
    .string()
    .regex(/^ahk_[A-Za-z0-9_-]{32,}$/, 'must look like ahk_ followed by at least 32 letters or digits')
    .optional(),
  HUB_DEFAULT_PLAN: z.enum(['starter', 'growth', 'scale']).default('scale'),
  // A hosted deployment's own numbers per plan, JSON: {"starter": {"events_per_month": 50000}} (platform/plans.ts).
  HUB_PLAN_LIMITS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return {};
      const limit = z.number().int().positive();
      const parts = z
        .object({ agents: limit, events_per_month: limit, retention_days: limit, members: limit })
        .partial();
      const parsed = z
        .object({ starter: parts, growth: parts, scale: parts })
        .partial()
        .strict()
        .safeParse(
          (() => {
            try {
              return JSON.parse(v);
            } catch {
              return null;
            }
          })(),
        );
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: 'JSON like {"starter": {"events_per_month": 50000}}' });
        return z.NEVER;
      }
      return parsed.data;
    }),
  HUB_BODY_LIMIT_MB: z.coerce.number().positive().max(100).default(8),
  HUB_CORS_ORIGINS: z.string().optional(),
  HUB_TRUST_PROXY: bool.default(false),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HUB_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** `off`: no named statements on PostgreSQL (a pooler in transaction mode that does not carry them). */
  HUB_PG_PREPARE: z.enum(['on', 'off']).default('on'),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(6000),
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().positive().default(20),
  RATE_LIMIT_INGEST_PER_MINUTE: z.coerce.number().int().positive().default(120_000),
  RATE_LIMIT_ORG_PER_MINUTE: z.coerce.number().int().positive().default(600_000),
  REDIS_URL: z.string().url().optional(),
  SMTP_URL: z
    .string()
    .refine((u) => /^smtps?:\/\//.test(u), 'must be smtp:// or smtps://')
    .optional(),
  SMTP_FROM: z.string().default('AgentOps Hub <hub@localhost>'),
  TLS_CERT: z.string().optional(),
  TLS_KEY: z.string().optional(),
  GOOGLE_CLIENT_ID: z.string().optional(),
  GOOGLE_CLIENT_SECRET: z.string().optional(),
  MICROSOFT_CLIENT_ID: z.string().optional(),
  MICROSOFT_CLIENT_SECRET: z.string().optional(),
  MICROSOFT_TENANT_ID: z.string().default('common'),
  HUB_SIGNUP: z
    .string()
    .regex(
      /^(invite|open|domain:[a-z0-9.-]+\.[a-z]{2,}(,[a-z0-9.-]+\.[a-z]{2,})*)$/i,
      'must be invite, open or domain:example.com (several domains separated by commas)',
    )
    .default('invite'),
  HUB_ORGS_PER_USER: z.coerce.number().int().min(0).max(1000).default(3),
  HUB_EGRESS_ALLOW: z.string().optional(),
  HUB_MCP_GATEWAYS: z.coerce.number().int().min(1).max(100_000).default(1000),
});

/**
 * Who may create an account once the first owner exists. The first account of a hub is always allowed
 * (it becomes the owner). `invite`: only someone with a pending invitation; `open`: anyone who can reach
 * the hub; `domain`: anyone whose email is at one of these domains.
 */
export type SignupPolicy = { mode: 'invite' } | { mode: 'open' } | { mode: 'domain'; domains: string[] };

function parseSignup(value: string): SignupPolicy {
  if (value === 'invite' || value === 'open') return { mode: value };
  return { mode: 'domain', domains: value.slice('domain:'.length).toLowerCase().split(',') };
}

export interface Config {
  env: string;
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  encryptionKey: string | undefined;
  authSecret: string | undefined;
  init: { orgName?: string; userEmail?: string; userPassword?: string; apiKey?: string };
  defaultPlan: 'starter' | 'growth' | 'scale';
  /** Per-plan limits that replace the built-in ones (HUB_PLAN_LIMITS). */
  planLimits: Partial<
    Record<
      'starter' | 'growth' | 'scale',
      Partial<Record<'agents' | 'events_per_month' | 'retention_days' | 'members', number>>
    >
  >;
  bodyLimitBytes: number;
  corsOrigins: string[];
  trustProxy: boolean;
  logLevel: string;
  role: 'all' | 'api' | 'worker';
  /** PostgreSQL: repeated statements are sent as named (prepared) ones (db/pg-statement-cache.ts). */
  pgPrepare: boolean;
  rateLimit: { perMinute: number; authPerMinute: number; ingestPerMinute: number; orgPerMinute: number };
  redisUrl: string | undefined;
  smtp: { url: string | undefined; from: string };
  tls: { cert?: string; key?: string };
  oauth: {
    google?: { clientId: string; clientSecret: string };
    microsoft?: { clientId: string; clientSecret: string; tenantId: string };
  };
  /** HUB_SIGNUP: who may create an account once the first owner exists. */
  signup: SignupPolicy;
  /** HUB_ORGS_PER_USER: how many orgs one account may own; every org where it is an owner counts. */
  orgsPerUser: number;
  /**
   * HUB_EGRESS_ALLOW: hosts, IPs and CIDR ranges the hub may reach for a user although they are loopback,
   * private or link-local (webhooks to an internal service, a local Slack relay). Empty by default.
   */
  egressAllow: string[];
  /**
   * HUB_MCP_GATEWAYS: hosted MCP gateways (endpoint × API key) one process keeps open; past it an idle one is
   * closed, and when every one has sessions a new one is refused (429) rather than ending another org's.
   */
  mcpGateways: number;
}

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if ((e.TLS_CERT && !e.TLS_KEY) || (!e.TLS_CERT && e.TLS_KEY)) {
    throw new ConfigError('Invalid configuration:\n  TLS_CERT and TLS_KEY must be set together');
  }
  const scheme = e.TLS_CERT ? 'https' : 'http';
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.HUB_DATA_DIR),
    publicUrl: (e.HUB_PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/$/, ''),
    databaseUrl: e.DATABASE_URL,
    encryptionKey: e.HUB_ENCRYPTION_KEY,
    authSecret: e.HUB_AUTH_SECRET,
    init: {
      orgName: e.HUB_INIT_ORG_NAME,
      userEmail: e.HUB_INIT_USER_EMAIL,
      userPassword: e.HUB_INIT_USER_PASSWORD,
      apiKey: e.HUB_INIT_API_KEY,
    },
    defaultPlan: e.HUB_DEFAULT_PLAN,
    planLimits: e.HUB_PLAN_LIMITS,
    bodyLimitBytes: Math.round(e.HUB_BODY_LIMIT_MB * 1024 * 1024),
    corsOrigins: e.HUB_CORS_ORIGINS ? e.HUB_CORS_ORIGINS.split(',').map((s) => s.trim()) : [],
    trustProxy: e.HUB_TRUST_PROXY,
    logLevel: e.HUB_LOG_LEVEL,
    role: e.HUB_ROLE,
    pgPrepare: e.HUB_PG_PREPARE === 'on',
    rateLimit: {
      perMinute: e.RATE_LIMIT_PER_MINUTE,
      authPerMinute: e.RATE_LIMIT_AUTH_PER_MINUTE,
      ingestPerMinute: e.RATE_LIMIT_INGEST_PER_MINUTE,
      orgPerMinute: e.RATE_LIMIT_ORG_PER_MINUTE,
    },
    redisUrl: e.REDIS_URL,
    smtp: { url: e.SMTP_URL, from: e.SMTP_FROM },
    tls: { cert: e.TLS_CERT, key: e.TLS_KEY },
    oauth: {
      google:
        e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET
          ? { clientId: e.GOOGLE_CLIENT_ID, clientSecret: e.GOOGLE_CLIENT_SECRET }
          : undefined,
      microsoft:
        e.MICROSOFT_CLIENT_ID && e.MICROSOFT_CLIENT_SECRET
          ? {
              clientId: e.MICROSOFT_CLIENT_ID,
              clientSecret: e.MICROSOFT_CLIENT_SECRET,
              tenantId: e.MICROSOFT_TENANT_ID,
            }
          : undefined,
    },
    signup: parseSignup(e.HUB_SIGNUP.toLowerCase()),
    orgsPerUser: e.HUB_ORGS_PER_USER,
    egressAllow: e.HUB_EGRESS_ALLOW
      ? e.HUB_EGRESS_ALLOW.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    mcpGateways: e.HUB_MCP_GATEWAYS,
  };
}
