/**
 * Schedule computation: presets and cron expressions read in the report's time zone, across DST
 * changes (spring forward, fall back, both hemispheres) and zones with half-hour offsets.
 */
import { describe, expect, it } from 'vitest';
import {
  latestOccurrence,
  nextRunOf,
  occurrenceOf,
  parseSchedule,
  SCHEDULE_PRESETS,
  scheduleName,
} from './report-schedule.ts';

const at = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString();

function series(cron: string, tz: string, after: string, n: number): string[] {
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < n; i++) {
    t = nextRunOf(cron, tz, t);
    out.push(iso(t));
  }
  return out;
}

describe('parseSchedule', () => {
  it('reads the presets and 5-field cron expressions', () => {
    expect(parseSchedule('weekly')).toEqual({ ok: true, cron: '0 8 * * 1' });
    expect(parseSchedule(' Monthly ')).toEqual({ ok: true, cron: '0 8 1 * *' });
    expect(parseSchedule('30  7 * *  1-5')).toEqual({ ok: true, cron: '30 7 * * 1-5' });
  });

  it('refuses what it cannot read, saying why', () => {
    for (const bad of ['every blue moon', '* * *', '61 * * * *', '0 8 * * 1 2026', '0 0 31 2 *']) {
      const r = parseSchedule(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
    }
    // Seconds would let a schedule fire every second: only 5 fields.
    expect(parseSchedule('*/5 * * * * *').ok).toBe(false);
  });

  it('refuses a schedule that runs more often than hourly (each run may email 50 addresses)', () => {
    for (const often of ['* * * * *', '*/30 * * * *', '0,30 9 * * 1', '0,59 * * * *']) {
      const r = parseSchedule(often);
      expect(r, often).toEqual({ ok: false, message: 'a report runs at most once an hour' });
    }
    expect(parseSchedule('0 * * * *')).toEqual({ ok: true, cron: '0 * * * *' });
    // Hourly in a zone with a daylight-saving change stays accepted.
    expect(parseSchedule('0 * * * *', 'Europe/Paris').ok).toBe(true);
  });
});

describe('next runs in the report time zone', () => {
  it('weekly stays Monday 08:00 local across the US spring-forward change', () => {
    // DST in New York starts Sunday 2026-03-08: 08:00 EST is 13:00Z, 08:00 EDT is 12:00Z.
    expect(series(SCHEDULE_PRESETS.weekly!, 'America/New_York', '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-02T13:00:00.000Z',
      '2026-03-09T12:00:00.000Z',
      '2026-03-16T12:00:00.000Z',
    ]);
  });

  it('weekly stays Monday 08:00 local across the southern-hemisphere change (Auckland, April)', () => {
    // NZ leaves DST on 2026-04-05: 08:00 NZDT is 19:00Z the day before, 08:00 NZST is 20:00Z.
    expect(series(SCHEDULE_PRESETS.weekly!, 'Pacific/Auckland', '2026-03-28T00:00:00Z', 2)).toEqual([
      '2026-03-29T19:00:00.000Z',
      '2026-04-05T20:00:00.000Z',
    ]);
  });

  it('monthly is the 1st at 08:00 local, before and after the EU change', () => {
    expect(series(SCHEDULE_PRESETS.monthly!, 'Europe/Berlin', '2026-02-15T00:00:00Z', 3)).toEqual([
      '2026-03-01T07:00:00.000Z',
      '2026-04-01T06:00:00.000Z',
      '2026-05-01T06:00:00.000Z',
    ]);
  });

  it('handles half-hour offsets (Asia/Kolkata, UTC+05:30)', () => {
    expect(series('0 8 * * 1', 'Asia/Kolkata', '2026-03-01T00:00:00Z', 1)).toEqual(['2026-03-02T02:30:00.000Z']);
  });

  it('a local time that does not exist on the spring-forward day runs once, at the first valid minute', () => {
    // 02:30 does not exist in New York on 2026-03-08 (02:00 → 03:00 EDT).
    expect(series('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('a local time that happens twice on the fall-back day runs once', () => {
    // 01:30 happens twice in New York on 2026-11-01 (EDT, then EST).
    const runs = series('30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z', 3);
    expect(runs).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });
});

describe('occurrences after downtime', () => {
  it('the latest occurrence at or before now, from the first missed one', () => {
    const cron = SCHEDULE_PRESETS.weekly!;
    const first = at('2026-03-02T13:00:00Z');
    // Down three Mondays, back on a Wednesday: the latest period is the one that ended on 2026-03-16.
    expect(iso(latestOccurrence(cron, 'America/New_York', first, at('2026-03-18T10:00:00Z')))).toBe(
      '2026-03-16T12:00:00.000Z',
    );
    // Not down at all: the due occurrence itself.
    expect(latestOccurrence(cron, 'America/New_York', first, first + 1000)).toBe(first);
  });

  it('reads the occurrence from the job key the runner writes', () => {
    expect(occurrenceOf(`${scheduleName('rpt_1')}:1772456400000`)).toBe(1772456400000);
    expect(occurrenceOf(null)).toBeNull();
    expect(occurrenceOf('report:rpt_1:soon')).toBeNull();
  });
});
