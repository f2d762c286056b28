/**
 * An amount of money, the one way the console shows it: cents for totals, sub-cent precision only for a
 * single model call (`call`), and always the exact value as a tooltip (hover or touch).
 *
 * @example
 * <Money value={run.cost_usd} />          // "$0.42", tooltip "$0.4213 USD"
 * <Money value={call.cost_usd} call />    // "$0.000042"
 */
import { Tooltip } from '@mantine/core';
import { usd, usdCall, usdExact } from '../lib/format';

export function Money({ value, call = false }: { value: number | null | undefined; call?: boolean }) {
  const shown = call ? usdCall(value) : usd(value);
  if (value === null || value === undefined) return <span>{shown}</span>;
  return (
    <Tooltip label={usdExact(value)} openDelay={200} events={{ hover: true, focus: false, touch: true }}>
      <span data-money={value} style={{ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }}>
        {shown}
      </span>
    </Tooltip>
  );
}
