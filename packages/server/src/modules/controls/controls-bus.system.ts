/**
 * System path: a control change announced by another hub process. The bus message names the org as a
 * plain string; it was published by a hub process right after a committed change for that org (never by
 * a client), so its id is trusted here and nowhere else in the controls module.
 */
import { type OrgId, trustedOrgId } from '../../platform/caller.ts';
import type { ControlBus } from '../../platform/control-bus.ts';

/** Calls `onChange` for every org another process changed (messages from `origin`, this process, are skipped). */
export function onControlsChangedElsewhere(
  bus: Pick<ControlBus, 'subscribe'>,
  topic: string,
  origin: string,
  onChange: (orgId: OrgId) => void,
) {
  bus.subscribe(topic, (d) => {
    if (d.origin === origin || typeof d.org_id !== 'string') return;
    onChange(trustedOrgId(d.org_id));
  });
}
