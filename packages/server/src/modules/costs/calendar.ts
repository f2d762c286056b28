/**
 * Calendar periods in an org's time zone: a day, an ISO week (from Monday) or a month, with their real
 * length (23 or 25 hours on a DST change), via Luxon and the platform's time-zone database.
 *
 * @example
 * periodOf(Date.parse('2026-03-29T12:00:00Z'), 'day', 'Europe/Paris')
 * // → { start: 2026-03-28T23:00:00Z, end: 2026-03-29T22:00:00Z } (a 23-hour day)
 */
import { DateTime } from 'luxon';

export type CalendarUnit = 'day' | 'week' | 'month';

export interface Period {
  start: number;
  end: number;
}

export function periodOf(at: number, unit: CalendarUnit, timezone: string): Period {
  const start = DateTime.fromMillis(at, { zone: timezone }).startOf(unit, { useLocaleWeeks: false });
  return { start: start.toMillis(), end: start.plus({ [`${unit}s`]: 1 }).toMillis() };
}

/** The local calendar date (YYYY-MM-DD) of the period that holds `at`. */
export function periodKey(at: number, unit: CalendarUnit, timezone: string): string {
  return DateTime.fromMillis(periodOf(at, unit, timezone).start, { zone: timezone }).toISODate() ?? '';
}

/** A `from`/`to` query value: a timestamp, or a date read as local midnight in the org's zone. */
export function parseInstant(value: string, timezone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return DateTime.fromISO(value, { zone: timezone }).toMillis();
  return Date.parse(value);
}

/** Whether the platform knows this IANA zone. */
export function isKnownZone(timezone: string): boolean {
  return DateTime.local().setZone(timezone).isValid;
}
