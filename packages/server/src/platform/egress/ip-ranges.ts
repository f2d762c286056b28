/**
 * The address ranges the hub never reaches for a user (SSRF): loopback, private, link-local, cloud
 * metadata, CGNAT, multicast, reserved and documentation ranges, in IPv4 and IPv6. An IPv6 address that
 * carries an IPv4 one (`::ffff:127.0.0.1`, NAT64 `64:ff9b::7f00:1`) is judged by the IPv4 address it
 * reaches.
 *
 * @example
 * refusedRange('169.254.169.254'); // 'a cloud metadata address'
 * refusedRange('::ffff:10.1.2.3'); // 'a private address'
 * refusedRange('93.184.215.14');   // null: public
 */
import { BlockList, isIP } from 'node:net';

/** Checked in order: the first match names the reason (metadata before link-local, ULA). */
const RANGES: { label: string; v4?: string[]; v6?: string[] }[] = [
  { label: 'a cloud metadata address', v4: ['169.254.169.254/32', '100.100.100.200/32'], v6: ['fd00:ec2::254/128'] },
  { label: 'a loopback address', v4: ['127.0.0.0/8'], v6: ['::1/128'] },
  { label: 'an unspecified address', v4: ['0.0.0.0/8'], v6: ['::/128'] },
  { label: 'a private address', v4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], v6: ['fc00::/7'] },
  { label: 'a link-local address', v4: ['169.254.0.0/16'], v6: ['fe80::/10', 'fec0::/10'] },
  { label: 'a carrier-grade NAT address', v4: ['100.64.0.0/10'] },
  { label: 'a multicast address', v4: ['224.0.0.0/4'], v6: ['ff00::/8'] },
  {
    label: 'a reserved address',
    // 240/4 includes the broadcast address; ::/96 is the deprecated IPv4-compatible form; 100::/64 discards.
    v4: ['240.0.0.0/4', '192.0.0.0/24', '198.18.0.0/15', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'],
    v6: ['::/96', '100::/64', '2001:db8::/32', '64:ff9b:1::/48'],
  },
];

const LISTS = RANGES.map(({ label, v4 = [], v6 = [] }) => {
  const list = new BlockList();
  for (const cidr of v4) addCidr(list, cidr, 'ipv4');
  for (const cidr of v6) addCidr(list, cidr, 'ipv6');
  return { label, list };
});

function addCidr(list: BlockList, cidr: string, type: 'ipv4' | 'ipv6') {
  const [net, bits] = cidr.split('/');
  list.addSubnet(net!, Number(bits), type);
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one the network will actually reach:
 * IPv4-mapped (`::ffff:a.b.c.d`) and the well-known NAT64 prefix (`64:ff9b::a.b.c.d`).
 */
export function embeddedIpv4(address: string): string | null {
  if (isIP(address) !== 6) return null;
  const words = expandIpv6(address);
  const low = (words[6]! << 16) | words[7]!;
  const v4 = [low >>> 24, (low >>> 16) & 255, (low >>> 8) & 255, low & 255].join('.');
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zero(0, 5) && words[5] === 0xffff) return v4;
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) return v4;
  return null;
}

/** The eight 16-bit words of an IPv6 address (handles `::` and a dotted IPv4 tail). */
function expandIpv6(address: string): number[] {
  let s = address.split('%')[0]!.toLowerCase();
  const dotted = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((w) => Number.parseInt(w, 16));
}

/** Why `address` (an IP literal) may not be reached, e.g. 'a loopback address'; null when it is public. */
export function refusedRange(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v4 = family === 4 ? address : embeddedIpv4(address);
  const [ip, type] = v4 ? [v4, 'ipv4' as const] : [address.split('%')[0]!, 'ipv6' as const];
  for (const { label, list } of LISTS) if (list.check(ip, type)) return label;
  return null;
}
