/**
 * V8 settings for the hub process, applied by `main.ts` before anything else is loaded.
 *
 * `--no-allocation-site-pretenuring`: V8 may decide that objects made at one allocation site live
 * long, and from then on allocate them straight in the old generation. Under a burst of concurrent
 * requests it sometimes took that decision for request-scoped objects. After that, every minor GC had to
 * walk the old-to-young pointers, and took 7–10 ms instead of about 1. The old generation also grew by
 * about 3 MB per minor GC until a full collection. Measured with the policy benchmark's load: 3 of 14 runs
 * fell into this mode (the hub's throughput dropped by about a fifth and its p99 latency rose), and
 * none of 8 did with pretenuring off. Minor-GC cost was the same in the good runs either way. The hub
 * keeps little in memory for long (caches, compiled policy sets), so it loses nothing by not
 * pretenuring.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
