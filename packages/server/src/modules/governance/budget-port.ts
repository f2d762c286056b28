/**
 * Adapts the budgets service to what policy packs need from it (`PackBudgetPort`): a budget's current
 * content for the change check, and create, update, remove as the calling person.
 */
import { AppError } from '../../platform/errors.ts';
import type { BudgetService } from '../costs/index.ts';
import type { PackBudgetPort } from './policy-packs.service.ts';

export function budgetPort(budgets: Pick<BudgetService, 'create' | 'get' | 'update' | 'remove'>): PackBudgetPort {
  return {
    create: (caller, body) => budgets.create(caller, body),
    async get(orgId, id) {
      try {
        return (await budgets.get({ orgId }, id)) as unknown as Record<string, unknown>;
      } catch (e) {
        if (e instanceof AppError && e.code === 'not_found') return null;
        throw e;
      }
    },
    update: (caller, id, body) =>
      budgets.update(caller, id, {
        name: body.name,
        amount_usd: body.amount_usd,
        period: body.period,
        thresholds: body.thresholds,
        on_exceed: body.on_exceed,
      }),
    async remove(caller, id) {
      await budgets.remove(caller, id);
    },
  };
}
