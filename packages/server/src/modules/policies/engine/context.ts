/**
 * The context the hub adds to every evaluation: local hour, weekday and date in the org's time zone, and
 * the agent's environment. Policies such as "no refunds outside business hours" read `context.hour`.
 *
 * The hub's values win over the caller's for these keys: an agent must not be able to step around a
 * time-window or environment rule by sending `context: {hour: 10}`. Every other caller key is kept.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface HubContext {
  /** 0–23 in the org's time zone. */
  hour: number;
  weekday: Weekday;
  environment: string | null;
  /** YYYY-MM-DD in the org's time zone. */
  date: string;
}

const WEEKDAYS: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

// Building an Intl.DateTimeFormat costs tens of microseconds; a formatter per time zone is a pure memo
// (no state besides the cache), so sharing it across orgs and hub instances is safe.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      weekday: 'short',
    });
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The hub-filled context for `now` in `timezone` (an IANA name; an unknown zone throws RangeError, so
 * validate it when the org setting is saved).
 * @example
 * hubContext(new Date('2025-03-03T17:30:00Z'), 'Europe/Berlin', 'prod')
 * // → { hour: 18, weekday: 'mon', environment: 'prod', date: '2025-03-03' }
 */
export function hubContext(now: Date, timezone: string, environment: string | null): HubContext {
  // Time zones move in whole minutes (at least 15), so a zone's hour, weekday and date hold for the
  // whole UTC minute: formatToParts (several µs) runs once a minute per zone, not once per evaluation.
  const minute = Math.floor(now.getTime() / 60_000);
  let hit = lastByZone.get(timezone);
  if (!hit || hit.minute !== minute) {
    const parts: Record<string, string> = {};
    for (const p of formatter(timezone).formatToParts(now)) parts[p.type] = p.value;
    hit = {
      minute,
      hour: Number(parts.hour) % 24,
      weekday: WEEKDAYS[parts.weekday]!,
      date: `${parts.year}-${parts.month}-${parts.day}`,
    };
    if (lastByZone.size > 1000) lastByZone.clear();
    lastByZone.set(timezone, hit);
  }
  return { hour: hit.hour, weekday: hit.weekday, environment, date: hit.date };
}
const lastByZone = new Map<string, { minute: number; hour: number; weekday: Weekday; date: string }>();

/**
 * The context a rule sees: the caller's keys, overridden by the hub's.
 * @example
 * mergeContext({ hour: 3, campaign: 'spring' }, hub) // → { hour: hub.hour, campaign: 'spring', weekday, … }
 */
export function mergeContext(caller: Record<string, unknown> | undefined, hub: HubContext): Record<string, unknown> {
  return { ...caller, ...hub };
}
