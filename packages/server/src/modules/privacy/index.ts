/**
 * The privacy module's door: what other modules may use. Import from here, not from the module's files
 * (test/architecture.test.ts holds every module to this). Add an export only when another module needs it.
 */
export { hideRunContent, mayViewContent } from './content-visibility.ts';
export type { PrivacyService } from './privacy.service.ts';
export type { Redactor } from './redactor.ts';
export { keptAction, keptContext } from './stored-content.ts';
