/**
 * System path: prices an LLM call for enrichment and for a run's replay. Enrichment works through the
 * events of many orgs at once and names each by the org its event was stored for, not by a caller;
 * that id becomes an `OrgId` here only to read that org's own price overrides.
 */
import { trustedOrgId } from '../../platform/caller.ts';
import type { CostQuoter } from '../ingestion/index.ts';
import type { PriceOverrideService } from './price-overrides.service.ts';
import type { Pricer } from './pricing.ts';

export function createCostQuoter(pricer: Pricer, overrides: Pick<PriceOverrideService, 'overridesFor'>): CostQuoter {
  return {
    quote: async (orgId, usage, at) =>
      pricer.quote(usage, at, await overrides.overridesFor(trustedOrgId(orgId))).cost_nano,
  };
}
