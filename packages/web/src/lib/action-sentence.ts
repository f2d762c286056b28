/**
 * Actions as sentences: what an agent asked to do, read from its action object (type, amount, currency,
 * target), so an approval says "SupportBot wants to issue a refund of $250.00 on order A-1001" instead of
 * showing JSON. The raw action stays one click away in the pages that use this.
 */

/** Nouns that stand for a whole action when they are its type alone ("refund" → "issue a refund"). */
const NOUN_ACTIONS: Record<string, string> = {
  refund: 'issue',
  payment: 'make',
  transfer: 'make',
  email: 'send',
  message: 'send',
  sms: 'send',
  payout: 'send',
  purchase: 'make',
  order: 'place',
  deployment: 'start',
};

const VERBS = new Set([
  'issue',
  'send',
  'make',
  'create',
  'delete',
  'remove',
  'update',
  'edit',
  'pay',
  'transfer',
  'charge',
  'cancel',
  'close',
  'open',
  'approve',
  'book',
  'buy',
  'call',
  'post',
  'publish',
  'write',
  'run',
  'execute',
  'deploy',
  'grant',
  'revoke',
  'export',
  'import',
  'upload',
  'download',
  'share',
  'invite',
  'place',
  'submit',
  'reset',
  'change',
  'set',
  'apply',
  'merge',
  'push',
  'drop',
  'read',
  'query',
  'fetch',
  'notify',
  'escalate',
  'refund',
]);

/** Attributes that name what the action is done to, in the order they are preferred, with their preposition. */
const TARGETS: [key: string, phrase: (v: string) => string][] = [
  ['order_id', (v) => `on order ${v}`],
  ['order', (v) => `on order ${v}`],
  ['invoice_id', (v) => `on invoice ${v}`],
  ['to', (v) => `to ${v}`],
  ['recipient', (v) => `to ${v}`],
  ['email', (v) => `to ${v}`],
  ['customer_id', (v) => `for customer ${v}`],
  ['customer', (v) => `for customer ${v}`],
  ['account_id', (v) => `on account ${v}`],
  ['user_id', (v) => `for user ${v}`],
  ['target', (v) => `on ${v}`],
  ['resource', (v) => `on ${v}`],
  ['url', (v) => `to ${v}`],
  ['path', (v) => `on ${v}`],
  ['table', (v) => `on table ${v}`],
];

const AMOUNT_KEYS = ['amount', 'amount_usd', 'value', 'total', 'cost_usd', 'price'];

const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

const scalar = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** "issue_refund" → "issue a refund"; "refund" → "issue a refund"; "deploy" → "deploy"; "" → "act". */
export function verbPhrase(type: unknown): string {
  const words = String(type ?? '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[\s_.:/-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0) return 'act';
  const [first, ...rest] = words as [string, ...string[]];
  if (rest.length === 0) {
    const verb = NOUN_ACTIONS[first];
    return verb ? `${verb} ${article(first)} ${first}` : first;
  }
  if (VERBS.has(first)) {
    const object = rest.join(' ');
    // "send_emails" reads as is; a singular object gets its article.
    return /s$/.test(object) ? `${first} ${object}` : `${first} ${article(object)} ${object}`;
  }
  return words.join(' ');
}

/** `250, "usd"` → "$250.00"; `12.5, "eur"` → "€12.50"; an unknown currency code is kept as a word. */
export function money(amount: number, currency?: unknown): string {
  const code = typeof currency === 'string' && /^[a-z]{3}$/i.test(currency) ? currency.toUpperCase() : 'USD';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: code }).format(amount);
  } catch {
    return `${amount} ${String(currency)}`;
  }
}

export interface ActionParts {
  /** "issue a refund of $250.00 on order A-1001" */
  phrase: string;
  /** The attributes the phrase did not use, for a short list beside the sentence. */
  rest: [string, unknown][];
}

/**
 * The action as a phrase, and what is left of it.
 * @example actionParts({ type: 'issue_refund', amount: 250, currency: 'usd', order_id: 'A-1001' }).phrase
 * // "issue a refund of $250.00 on order A-1001"
 */
export function actionParts(action: Record<string, unknown> | null | undefined): ActionParts {
  const a = action ?? {};
  const used = new Set<string>(['type']);
  const words = [verbPhrase(a.type)];

  const amountKey = AMOUNT_KEYS.find((k) => typeof a[k] === 'number' && Number.isFinite(a[k]));
  if (amountKey) {
    const currency = amountKey.endsWith('_usd') ? 'usd' : a.currency;
    words.push(`of ${money(a[amountKey] as number, currency)}`);
    used.add(amountKey);
    if (a.currency !== undefined) used.add('currency');
  }
  const target = TARGETS.find(([k]) => scalar(a[k]) && String(a[k]) !== '');
  if (target) {
    words.push(target[1](String(a[target[0]])));
    used.add(target[0]);
  }
  return { phrase: words.join(' '), rest: Object.entries(a).filter(([k]) => !used.has(k)) };
}

/**
 * What an agent asks to do, as one sentence.
 * @example actionSentence('SupportBot', { type: 'refund', amount: 250, currency: 'usd', order_id: 'A-1001' })
 * // "SupportBot wants to issue a refund of $250.00 on order A-1001"
 */
export function actionSentence(agent: string, action: Record<string, unknown> | null | undefined): string {
  return `${agent} wants to ${actionParts(action).phrase}`;
}

/** The same action, done or decided: "issue a refund of $250.00 on order A-1001" with a capital first letter. */
export function actionTitle(action: Record<string, unknown> | null | undefined): string {
  const p = actionParts(action).phrase;
  return p.charAt(0).toUpperCase() + p.slice(1);
}
