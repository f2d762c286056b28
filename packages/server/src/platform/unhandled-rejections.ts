/**
 * What the hub does with a promise rejection nobody handled.
 *
 * Node's default ends the process, and with it every org's requests in flight, open MCP sessions and event
 * streams: one agent that found a background path whose failure is not awaited (a delivery, a cache refresh, a
 * session being closed) could restart the hub at will. Such a rejection is a bug in that one path, not a broken
 * process, so it is logged as an error and counted (`hub_unhandled_rejections_total` on /metrics, to alert on)
 * and the hub goes on serving. An exception thrown and never caught still ends the process (Node's default):
 * the code it interrupted may have left its state half changed, and a supervisor starts a clean one.
 */

let seen = 0;

/** Rejections nobody handled since the process started (every app of the process reads the same count). */
export const unhandledRejections = () => seen;

/** Logs and counts each unhandled rejection `proc` (the process) reports, instead of exiting. */
export function keepServingOnUnhandledRejection(
  proc: Pick<NodeJS.Process, 'on'>,
  log: { error(obj: object, msg: string): void },
): void {
  proc.on('unhandledRejection', (reason) => {
    seen++;
    log.error(
      { err: reason },
      'a promise was rejected and nothing handled it: the hub goes on; this is a bug to report',
    );
  });
}
