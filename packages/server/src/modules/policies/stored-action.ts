/**
 * What a decision (and an approval, and its audit entry) keeps of an action. The evaluate body may be
 * megabytes (the body limit), and every decision row is kept, read by run replays and scanned by
 * simulations; so an action larger than 16 KiB of JSON is stored as a summary: `type`, the top-level
 * numbers, booleans and nulls, strings cut to 1,024 characters, nested objects and arrays dropped, and
 * `_truncated: true` with the original size and the dropped keys. The decision itself is always made on
 * the full action (and an approval stays bound to the full action's hash).
 */

/** Serialized size (JSON characters) above which a stored action is summarized. */
export const MAX_STORED_JSON = 16 * 1024;
const MAX_STRING = 1024;
const MAX_DROPPED_NAMES = 50;
const MAX_NAME = 100;
/** Room kept for `type` and the markers, so the summary itself stays under MAX_STORED_JSON. */
const RESERVED = 2 * 1024 + MAX_DROPPED_NAMES * (MAX_NAME + 3);

/**
 * The JSON to store for `value`: its own JSON when small enough (the common case costs one stringify,
 * as before), else the summary's.
 * @example
 * storedJson({ type: 'upload', body: 'x'.repeat(1e6) }); // '{"type":"upload","body":"xxx…","_truncated":true,…}'
 */
export function storedJson(value: Record<string, unknown>): string {
  const json = JSON.stringify(value);
  return json.length <= MAX_STORED_JSON ? json : JSON.stringify(summarize(value, json.length));
}

/** The value to store, for stores that serialize it themselves (approvals, audit entries). */
export function storedValue<T extends Record<string, unknown>>(value: T): T | Record<string, unknown> {
  const size = JSON.stringify(value).length;
  return size <= MAX_STORED_JSON ? value : summarize(value, size);
}

function summarize(value: Record<string, unknown>, size: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof value.type === 'string') out.type = value.type.slice(0, 200);
  const dropped: string[] = [];
  let droppedCount = 0;
  let used = 0;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'type' || key === '_truncated') continue;
    const kept =
      v === null || typeof v === 'number' || typeof v === 'boolean'
        ? v
        : typeof v === 'string'
          ? v.length > MAX_STRING
            ? `${v.slice(0, MAX_STRING)}…`
            : v
          : undefined;
    const cost = kept === undefined ? 0 : JSON.stringify(key).length + JSON.stringify(kept).length + 2;
    if (kept === undefined || used + cost > MAX_STORED_JSON - RESERVED) {
      droppedCount++;
      if (dropped.length < MAX_DROPPED_NAMES) dropped.push(key.slice(0, MAX_NAME));
      continue;
    }
    out[key] = kept;
    used += cost;
  }
  out._truncated = true;
  out._original_size = size;
  if (droppedCount) {
    out._dropped_keys = dropped;
    out._dropped_count = droppedCount;
  }
  return out;
}
