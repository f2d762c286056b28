/**
 * For the privacy tests: a text full of the detectors' cases and two org-rule values, the values that
 * must never be stored once it is redacted, and five org rules (the ingest bench uses the same five).
 */

/** Values that must never be stored under `redacted` or `metadata_only`. */
export const ORIGINALS = [
  'ann.lee@example.com',
  'bob+vip@shop.co.uk',
  '+44 20 7946 0958',
  '(415) 555-0123',
  '4111 1111 1111 1111',
  '5555555555554444',
  'DE89 3704 0044 0532 0130 00',
  'GB82WEST12345698765432',
  'sk-proj-abcdefghijklmnop1234567890',
  'ghp_0123456789abcdefghijABCDEFGHIJ',
  'abcDEF123456ghiJKLmno', // a bearer token
  'CUST-778812', // an org rule (pattern)
  '12 Baker Street', // an org rule (key)
];
export const sentence = `Hi, I am Ann (ann.lee@example.com, cc bob+vip@shop.co.uk), call +44 20 7946 0958 or (415) 555-0123.
Card 4111 1111 1111 1111, backup 5555555555554444. IBAN DE89 3704 0044 0532 0130 00 / GB82WEST12345698765432.
Use sk-proj-abcdefghijklmnop1234567890 and ghp_0123456789abcdefghijABCDEFGHIJ; header Bearer abcDEF123456ghiJKLmno.
Customer CUST-778812.`;
export const content = () => ({
  messages: [{ role: 'user', content: sentence }],
  customer: { address: '12 Baker Street' },
});

/** Five org rules, as the bench uses them too. */
export const RULES = [
  { name: 'customer ids', pattern: 'CUST-[0-9]{6}', action: 'hash' },
  { name: 'address', key: 'customer.address', action: 'remove' },
  { name: 'loyalty', key: 'loyalty_number', action: 'label', label: '[LOYALTY]' },
  { name: 'vat', pattern: 'VAT[A-Z]{2}[0-9]{9}', action: 'label', label: '[VAT]' },
  { name: 'notes', key: 'internal_notes', action: 'remove' },
];
