/**
 * Better Auth's endpoints under /api/auth, called directly (no client library: it would add weight
 * to the sign-in page). The session is an HttpOnly cookie the browser keeps.
 */
import { api } from './client';

export const auth = {
  signUp: (body: { email: string; password: string; name: string }) =>
    api('/api/auth/sign-up/email', { method: 'POST', body }),
  /** Answers `{twoFactorRedirect: true}` when the account has 2FA: then `verifyTotp` finishes the sign-in. */
  signIn: (body: { email: string; password: string }) =>
    api<{ twoFactorRedirect?: boolean }>('/api/auth/sign-in/email', { method: 'POST', body }),
  signOut: () => api('/api/auth/sign-out', { method: 'POST', body: {} }),
  verifyTotp: (code: string, trustDevice = false) =>
    api('/api/auth/two-factor/verify-totp', { method: 'POST', body: { code, trustDevice } }),
  verifyBackupCode: (code: string) =>
    api('/api/auth/two-factor/verify-backup-code', { method: 'POST', body: { code } }),
  enableTwoFactor: (password: string) =>
    api<{ totpURI: string; backupCodes: string[] }>('/api/auth/two-factor/enable', {
      method: 'POST',
      body: { password },
    }),
  disableTwoFactor: (password: string) => api('/api/auth/two-factor/disable', { method: 'POST', body: { password } }),
  requestReset: (email: string) =>
    api('/api/auth/request-password-reset', {
      method: 'POST',
      body: { email, redirectTo: `${window.location.origin}/reset-password` },
    }),
  resetPassword: (token: string, newPassword: string) =>
    api('/api/auth/reset-password', { method: 'POST', body: { token, newPassword } }),
};
