/**
 * Wires the privacy service for the composition root: a settings change here is published on the
 * control bus, and a change published by another hub process drops this process's compiled redactor
 * for that org, so every process redacts by the new settings within a moment.
 */
import type { ControlBus } from '../../platform/control-bus.ts';
import { createPrivacyService, type PrivacyDeps } from './privacy.service.ts';

export const PRIVACY_CHANGED = 'privacy.changed';

export function createPrivacyModule(
  d: Omit<PrivacyDeps, 'onChange'> & { bus: Pick<ControlBus, 'publish' | 'subscribe'> },
) {
  const privacy = createPrivacyService({
    ...d,
    onChange: (orgId) => void d.bus.publish(PRIVACY_CHANGED, { org_id: orgId }).catch(() => {}),
  });
  d.bus.subscribe(PRIVACY_CHANGED, (m) => privacy.invalidate(String(m.org_id)));
  return privacy;
}
