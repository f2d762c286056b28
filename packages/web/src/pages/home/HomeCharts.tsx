/**
 * The home page's charts. Loaded after the page's first paint (React.lazy in HomePage): the charting
 * library is the largest piece of the console, and the numbers above the charts do not wait for it.
 */
import '@mantine/charts/styles.css';
import type { StatsOverview } from '@agentops-hub/contracts';
import { BarChart, DonutChart } from '@mantine/charts';
import { INTEGER_AXIS, type LegendItem } from '../../components/ChartLegend';
import { num } from '../../lib/format';
import { STATUS_COLOR } from '../../lib/status';

export function OutcomeDonut({ runs, items }: { runs: number; items: LegendItem[] }) {
  return (
    <DonutChart
      size={160}
      thickness={24}
      chartLabel={`${num(runs)} run${runs === 1 ? '' : 's'}`}
      role="img"
      aria-label="Runs by outcome"
      data={items.filter((d) => d.value > 0)}
    />
  );
}

/** Each top agent's runs by outcome: failed, blocked and paused apart, as everywhere in the console. */
export function TopAgentsChart({ agents }: { agents: StatsOverview['top_agents'] }) {
  return (
    <BarChart
      h={220}
      data={agents.slice(0, 5).map((a) => ({
        agent: a.name,
        'Completed or running': a.runs - a.failed - a.blocked - a.paused,
        Failed: a.failed,
        Blocked: a.blocked,
        Paused: a.paused,
      }))}
      dataKey="agent"
      type="stacked"
      withLegend
      legendProps={{ verticalAlign: 'bottom' }}
      yAxisProps={INTEGER_AXIS}
      role="img"
      aria-label="Top 5 agents by runs"
      series={[
        { name: 'Completed or running', color: `${STATUS_COLOR.completed}.6` },
        { name: 'Failed', color: `${STATUS_COLOR.failed}.6` },
        { name: 'Blocked', color: `${STATUS_COLOR.blocked}.6` },
        { name: 'Paused', color: `${STATUS_COLOR.paused}.6` },
      ]}
    />
  );
}
