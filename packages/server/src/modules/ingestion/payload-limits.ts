/**
 * Large inputs and outputs are kept, truncated with a marker, rather than refused: an agent that
 * returns a 5 MB document must not lose its whole run over it.
 */
export interface PayloadLimits {
  /** Bytes of JSON kept for one field (input, output, error, an event payload). */
  maxFieldBytes: number;
}

export const DEFAULT_LIMITS: PayloadLimits = { maxFieldBytes: 64 * 1024 };

/** JSON text of `value`, or a `{_truncated, original_bytes, preview}` marker when too large. */
export function limitedJson(value: unknown, limits: PayloadLimits = DEFAULT_LIMITS): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  if (text === undefined) return null;
  if (Buffer.byteLength(text) <= limits.maxFieldBytes) return text;
  const preview = text.slice(0, Math.max(0, limits.maxFieldBytes - 200));
  return JSON.stringify({ _truncated: true, original_bytes: Buffer.byteLength(text), preview });
}
