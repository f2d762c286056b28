/** IANA time zones the browser knows, for pickers (a typo in a free-text zone was only caught on save). */
export function timeZones(current?: string | null): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const all = intl.supportedValuesOf?.('timeZone') ?? ['UTC', 'Europe/London', 'Europe/Paris', 'America/New_York'];
  // Browsers list "UTC" under no region, or not at all: keep it pickable, and keep a stored zone the browser lacks.
  const withUtc = all.includes('UTC') ? all : ['UTC', ...all];
  return current && !withUtc.includes(current) ? [current, ...withUtc] : withUtc;
}
