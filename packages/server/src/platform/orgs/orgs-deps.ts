/** What the org, member and invitation services are built from (orgs.service.ts wires the other two). */
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/schema.ts';
import type { AuditStore } from '../audit/audit.store.ts';
import type { Mailer } from '../notifications/mailer.ts';
import type { PlanService } from '../plans.ts';
import type { OrgStore } from './orgs.store.ts';

export interface OrgServiceDeps {
  db: Kysely<Database>;
  store: OrgStore;
  audit: AuditStore;
  config: Config;
  mailer: Pick<Mailer, 'send'>;
  plans: PlanService;
  clock: () => number;
}
