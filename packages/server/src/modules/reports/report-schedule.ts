/**
 * Report schedules: `weekly`, `monthly` or a 5-field cron expression, read in the report's time zone
 * (croner does the zone arithmetic, so 08:00 stays 08:00 local across DST changes; a local time that
 * does not exist on the spring-forward day runs at the first valid minute after it, an ambiguous one on
 * the fall-back day runs once).
 *
 * The schedule itself lives in the job runner's `schedules` table under `report:<id>`; the runner fires
 * only the occurrence that came due, so a hub that was down for three Mondays sends one weekly report
 * when it comes back, not three.
 *
 * @example
 * cronOf('weekly'); // '0 8 * * 1'
 * nextRunOf('0 8 * * 1', 'America/New_York', Date.parse('2026-03-03T00:00:00Z')); // 2026-03-09T12:00:00Z (EDT)
 */

import { Cron } from 'croner';
import { nextOccurrence } from '../../platform/jobs/job-runner.ts';

export const SCHEDULE_PRESETS: Record<string, string> = {
  weekly: '0 8 * * 1',
  monthly: '0 8 1 * *',
};

/** Name of a report's entry in the job runner's schedules table. */
export const scheduleName = (reportId: string) => `report:${reportId}`;

/** The occurrence a scheduled job was enqueued for: the runner keys it `${name}:${dueTime}`. */
export function occurrenceOf(singletonKey: string | null): number | null {
  if (!singletonKey) return null;
  const due = Number(singletonKey.slice(singletonKey.lastIndexOf(':') + 1));
  return Number.isFinite(due) && due > 0 ? due : null;
}

export type ScheduleCheck = { ok: true; cron: string } | { ok: false; message: string };

/** Reads a schedule: a preset, or a 5-field cron expression that has a future occurrence. */
export function parseSchedule(schedule: string, timezone = 'UTC'): ScheduleCheck {
  const text = schedule.trim();
  const preset = SCHEDULE_PRESETS[text.toLowerCase()];
  const cron = preset ?? text.replace(/\s+/g, ' ');
  if (!preset && cron.split(' ').length !== 5)
    return {
      ok: false,
      message: '"weekly", "monthly", or a cron expression of 5 fields (minute hour day-of-month month day-of-week)',
    };
  try {
    nextOccurrence(cron, timezone, Date.now());
  } catch (e) {
    return { ok: false, message: `not a cron expression the hub can read: ${(e as Error).message}` };
  }
  if (shortestGapMs(cron, timezone) < MIN_SCHEDULE_GAP_MS)
    return { ok: false, message: 'a report runs at most once an hour' };
  return { ok: true, cron };
}

/**
 * Each scheduled run renders a PDF and may email 50 addresses, so a schedule runs at most hourly: `* * * * *`
 * times 50 reports would have the hub send thousands of mails a minute for one org.
 */
export const MIN_SCHEDULE_GAP_MS = 3_600_000;

/** The shortest time between the schedule's next 25 occurrences (enough to see two runs of one day). */
function shortestGapMs(cron: string, timezone: string): number {
  const runs = new Cron(cron, { timezone, paused: true }).nextRuns(25, new Date());
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) shortest = Math.min(shortest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return shortest;
}

/** Whether the platform knows this IANA time zone. */
export function isKnownTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The next time the schedule fires strictly after `after` (epoch ms). */
export function nextRunOf(cron: string, timezone: string, after: number): number {
  return nextOccurrence(cron, timezone, after);
}

/**
 * The last occurrence at or before `now`, starting from `due` (an occurrence). After downtime the
 * runner fires only the first missed occurrence; the one run it makes covers the latest period.
 */
export function latestOccurrence(cron: string, timezone: string, due: number, now: number): number {
  let t = due;
  for (let i = 0; i < 10_000; i++) {
    const next = nextOccurrence(cron, timezone, t);
    if (next > now) return t;
    t = next;
  }
  return t;
}

/** Default days covered: a week for weekly and violation reports, 30 days otherwise. */
export function defaultRangeDays(template: string, cron: string | null): number {
  if (template === 'weekly_summary' || template === 'policy_violations') return 7;
  if (template === 'cost_breakdown' && cron === SCHEDULE_PRESETS.weekly) return 7;
  return 30;
}
