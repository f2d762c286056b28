/**
 * Where to go after signing in or up (`?next=`): only a path of this console. Anything that would leave
 * the hub (`https://evil.test`, `//evil.test`, `/\evil.test`, `javascript:…`) falls back to the home page,
 * so a link to the sign-in page cannot send a person elsewhere once they have typed their password.
 */
export function safeNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 2000) return undefined;
  // Browsers read `\` as `/` in URLs, so `/\evil.test` is protocol-relative too.
  if (value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // Control characters and whitespace can hide a scheme or a second slash from the checks above.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return undefined;
  }
  try {
    const base = 'https://console.invalid';
    const url = new URL(value, base);
    if (url.origin !== base) return undefined;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return undefined;
  }
}
