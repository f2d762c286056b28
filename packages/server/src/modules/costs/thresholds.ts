/** The threshold arithmetic budgets share: the ledger records crossings with it, the budget service reports them. */

/** Thresholds a budget notifies at: the ones set, and always 100 (an exhausted budget always says so). */
export function effectiveThresholds(thresholdsJson: string): number[] {
  const set = new Set<number>(JSON.parse(thresholdsJson) as number[]);
  set.add(100);
  return [...set].sort((a, b) => a - b);
}

/** Which thresholds `spent` reaches that were not reached before. */
export function newlyReached(amountNano: number, spentNano: number, thresholds: number[], reached: number[]) {
  return thresholds.filter((t) => spentNano * 100 >= t * amountNano && !reached.includes(t));
}
