/**
 * The operator's egress allowlist (`HUB_EGRESS_ALLOW`): host names, IP addresses and CIDR ranges that
 * the hub may reach for a user although they are loopback, private or link-local — a self-hosted hub
 * posting to an internal service. Host names match exactly (case-insensitive); an allowed name lets
 * every address it resolves to through, since the operator vouches for the name, not for one address.
 *
 * @example
 * const allow = parseAllowlist(['127.0.0.1', '10.0.0.0/8', 'hooks.internal']);
 * allow.host('Hooks.Internal'); // true
 * allow.address('10.2.3.4');    // true
 * allow.address('::ffff:10.2.3.4'); // true (IPv4-mapped)
 */
import { BlockList, isIP } from 'node:net';
import { embeddedIpv4 } from './ip-ranges.ts';

export interface Allowlist {
  /** Whether the URL's host name itself is allowed (then its addresses are not checked). */
  host(hostname: string): boolean;
  /** Whether this IP address is allowed although it is in a refused range. */
  address(ip: string): boolean;
}

/** Throws on an entry that is not a host name, an IP or a CIDR range, so a typo does not pass silently. */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const hosts = new Set<string>();
  const ips = new BlockList();
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (!entry) continue;
    const [net, bits, extra] = entry.split('/');
    const family = isIP(net!);
    if (family && bits === undefined) {
      ips.addAddress(net!, family === 4 ? 'ipv4' : 'ipv6');
    } else if (family && extra === undefined && /^\d+$/.test(bits!) && Number(bits) <= (family === 4 ? 32 : 128)) {
      ips.addSubnet(net!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(entry)) {
      hosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`HUB_EGRESS_ALLOW: "${raw}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return {
    host: (hostname) => hosts.has(hostname.toLowerCase().replace(/\.$/, '')),
    address(ip) {
      const family = isIP(ip);
      if (!family) return false;
      const v4 = family === 4 ? ip : embeddedIpv4(ip);
      return v4 ? ips.check(v4, 'ipv4') : ips.check(ip.split('%')[0]!, 'ipv6');
    },
  };
}
