/**
 * Status badges: one for runs (the five statuses of lib/status.ts, with the colors the charts use) and a
 * generic one for other resources' states (approvals, deliveries, exports) with a color map.
 */
import { Badge, type BadgeProps } from '@mantine/core';
import { useControls } from '../api/queries';
import { usePermissions } from '../lib/permissions';
import { agentStatus, type RunDisplayStatus, runStatus, STATUS_COLOR, STATUS_LABEL } from '../lib/status';

/** A run's status badge; pass the run (or its status and error) and it reads blocked and paused too. */
export function RunStatusBadge({ run, ...rest }: { run: { status: string; error?: unknown } } & BadgeProps) {
  const s: RunDisplayStatus = runStatus(run);
  return (
    <Badge color={STATUS_COLOR[s]} variant="light" {...rest}>
      {STATUS_LABEL[s]}
    </Badge>
  );
}

const DEFAULT_COLORS: Record<string, string> = {
  active: 'teal',
  approved: 'teal',
  completed: 'teal',
  delivered: 'teal',
  ok: 'teal',
  pending: 'yellow',
  running: 'blue',
  paused: 'gray',
  inactive: 'gray',
  expired: 'gray',
  rejected: 'red',
  failed: 'red',
  blocked: 'orange',
};

/** Any other status word, colored by `colors` (or the defaults above). */
export function StatusBadge({
  status,
  colors = DEFAULT_COLORS,
  ...rest
}: { status: string; colors?: Record<string, string> } & BadgeProps) {
  return (
    <Badge color={colors[status] ?? 'gray'} variant="light" {...rest}>
      {status}
    </Badge>
  );
}

/**
 * An agent's status as it acts now: paused when it is paused itself, and also while the org's kill switch
 * is engaged (every check then answers BLOCK), whatever its own status says.
 */
export function AgentStatusBadge({ status, ...rest }: { status: string } & BadgeProps) {
  const { can } = usePermissions();
  const controls = useControls(can('controls:read'));
  const engaged = controls.data?.kill_switch.engaged ?? false;
  const shown = agentStatus({ status }, engaged);
  return (
    <Badge
      color={shown === 'paused' ? 'orange' : 'teal'}
      variant="light"
      title={engaged && status !== 'paused' ? 'The kill switch is engaged: every agent is stopped' : undefined}
      {...rest}
    >
      {engaged && status !== 'paused' ? 'paused · kill switch' : shown}
    </Badge>
  );
}
