/** CSV for exports people open in spreadsheets (audit log, costs). */

/** RFC 4180 field; a leading =,+,-,@ is prefixed so a spreadsheet never runs it as a formula. */
export function csvField(v: unknown): string {
  if (typeof v === 'number') return String(v);
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and one line per row, CRLF-free (`\n`), ending with a newline. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}
