/**
 * The egress guard: every outbound request the hub makes for a user (webhooks, Slack-format webhooks,
 * report deliveries, approval callbacks) goes through `post`, so a user-supplied URL cannot reach the
 * hub's own network (SSRF).
 *
 * - The host is resolved once; if ANY of its addresses is loopback, private, link-local, metadata… (see
 *   ip-ranges.ts) the request is refused before a socket opens. The connection then goes to exactly those
 *   checked addresses (a pinned `lookup`), so a second DNS answer cannot rebind it; the Host header and
 *   the TLS server name stay the original name.
 * - Redirects are not followed: a 3xx is the receiver's answer, and a failure.
 * - Connect and total timeouts; the response body is read up to a cap and then the socket is destroyed.
 *   Only the status is kept: the outcome is a short hub-written reason, never the target's body, so an
 *   error message cannot carry what an internal service said.
 * - `HUB_EGRESS_ALLOW` (config.egressAllow) lets an operator reach internal hosts, IPs or ranges.
 *
 * @example
 * const egress = createEgressGuard({ allow: config.egressAllow });
 * egress.checkUrl('http://127.0.0.1/hook'); // 'refused: 127.0.0.1 is a loopback address'
 * const r = await egress.post(url, { headers: { 'content-type': 'application/json' }, body });
 * // { ok: false, status: 500, error: 'HTTP 500' } | { ok: false, status: null, error: 'timed out after 10 s' }
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { parseAllowlist } from './allowlist.ts';
import { refusedRange } from './ip-ranges.ts';

/** The outcome of one request; `bytesRead` counts the response bytes read (and discarded) before the end or the cap. */
export type EgressResult =
  | { ok: true; status: number; error: null; bytesRead: number }
  | {
      ok: false;
      /** The receiver's HTTP status, or null when none came (refused, unreachable, timed out). */
      status: number | null;
      /** A short reason written by the hub. Never contains the receiver's body. */
      error: string;
      bytesRead: number;
    };

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface EgressOptions {
  /** HUB_EGRESS_ALLOW entries: host names, IPs and CIDR ranges that are reachable although internal. */
  allow?: readonly string[];
  /** Until the TCP connection is up; default 5 s. */
  connectTimeoutMs?: number;
  /** The whole request, DNS to last byte read; default 10 s. */
  timeoutMs?: number;
  /** Response bytes read before the socket is destroyed; default 64 KiB (only the status matters). */
  maxResponseBytes?: number;
  /** Name resolution (default: the system resolver, every address). A process edge tests may replace. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

type LookupOptions = { all?: boolean };
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family?: number) => void;
type AllCallback = (err: NodeJS.ErrnoException | null, addresses: ResolvedAddress[]) => void;

export function createEgressGuard(opts: EgressOptions = {}) {
  const allow = parseAllowlist(opts.allow ?? []);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxResponseBytes ?? 64 * 1024;
  const resolve = opts.resolve ?? ((host: string) => dnsLookup(host, { all: true }));

  /** Why `address` of `host` may not be reached, or null. */
  function addressRefusal(host: string, address: string): string | null {
    const range = refusedRange(address);
    if (!range || allow.address(address)) return null;
    return host === address ? `${address} is ${range}` : `${host} resolves to ${address}, ${range}`;
  }

  /** The URL-only checks (no DNS): scheme, credentials, a literal internal IP or a localhost name. */
  function urlRefusal(url: URL): string | null {
    if (!(url.protocol in DEFAULT_PORTS)) return 'only http: and https: URLs are allowed';
    if (url.username || url.password) return 'URLs with credentials are not allowed';
    const host = bareHost(url);
    if (allow.host(host)) return null;
    if (isIP(host)) return addressRefusal(host, host);
    // localhost names never leave the machine (RFC 6761), whatever the resolver says.
    const name = host.replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost'))
      return addressRefusal(host, '127.0.0.1') ?? addressRefusal(host, '::1');
    return null;
  }

  return {
    /**
     * The write-time check (creating a webhook, accepting a callback URL): the reason, beginning
     * `refused:`, why this URL will never be delivered to; null when it may be. Names are resolved
     * only at send time, where `post` checks every address again.
     */
    checkUrl(rawUrl: string): string | null {
      let url: URL;
      try {
        url = new URL(rawUrl);
      } catch {
        return 'refused: not a valid URL';
      }
      const why = urlRefusal(url);
      return why && `refused: ${why}`;
    },

    /**
     * A `dns.lookup` for connections the hub keeps open for a user (a hosted MCP endpoint's upstream, whose
     * answers go back to the org's own clients): a name is resolved and refused when ANY of its addresses is
     * internal, as `post` does, and the socket connects to the checked addresses only. A URL that is an IP
     * literal never reaches a lookup: check it with `checkUrl` before connecting.
     */
    lookup: ((hostname: string, options: LookupOptions, callback: LookupCallback) => {
      const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
      resolve(host).then(
        (addresses) => {
          const refusal =
            addresses.length === 0
              ? `could not resolve ${host}`
              : allow.host(host)
                ? null
                : (addresses.map((a) => addressRefusal(host, a.address)).find(Boolean) ?? null);
          if (refusal) return callback(Object.assign(new Error(`refused: ${refusal}`), { code: 'EGRESS_REFUSED' }), '');
          if (options.all) return (callback as unknown as AllCallback)(null, addresses);
          callback(null, addresses[0]!.address, addresses[0]!.family);
        },
        () => callback(Object.assign(new Error(`could not resolve ${host}`), { code: 'ENOTFOUND' }), ''),
      );
    }) as LookupFunction,

    /** POSTs `body` to `rawUrl` once. Never throws: the outcome, refusals included, is the result. */
    async post(rawUrl: string, init: { headers: Record<string, string>; body: string }): Promise<EgressResult> {
      const deadline = Date.now() + timeoutMs;
      let url: URL;
      try {
        url = new URL(rawUrl);
      } catch {
        return failed('refused: not a valid URL');
      }
      const why = urlRefusal(url);
      if (why) return failed(`refused: ${why}`);
      const host = bareHost(url);
      let addresses: ResolvedAddress[];
      if (isIP(host)) {
        addresses = [{ address: host, family: isIP(host) }];
      } else {
        try {
          addresses = await within(resolve(host), deadline);
        } catch (err) {
          return failed(err === TIMED_OUT ? `timed out after ${timeoutMs / 1000} s` : `could not resolve ${host}`);
        }
        if (addresses.length === 0) return failed(`could not resolve ${host}`);
        if (!allow.host(host)) {
          // ANY internal address refuses the name: connecting "to the public one" would be a coin toss.
          for (const a of addresses) {
            const refusal = addressRefusal(host, a.address);
            if (refusal) return failed(`refused: ${refusal}`);
          }
        }
      }
      return send(url, host, addresses, init, deadline, { connectTimeoutMs, timeoutMs, maxBytes });
    },
  };
}

export type EgressGuard = ReturnType<typeof createEgressGuard>;

const TIMED_OUT = Symbol('timed out');

const failed = (error: string, status: number | null = null): EgressResult => ({
  ok: false,
  status,
  error,
  bytesRead: 0,
});

/** The URL's host without IPv6 brackets, lower-case. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

async function within<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A `lookup` that answers only the addresses already checked: no second DNS query, no rebinding. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'number' ? options : options?.family;
    const fit = addresses.filter((a) => !family || a.family === family);
    const list = fit.length ? fit : addresses;
    if (typeof options === 'object' && options?.all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
}

function send(
  url: URL,
  host: string,
  addresses: ResolvedAddress[],
  init: { headers: Record<string, string>; body: string },
  deadline: number,
  limits: { connectTimeoutMs: number; timeoutMs: number; maxBytes: number },
): Promise<EgressResult> {
  return new Promise((settle) => {
    let done = false;
    let req: ClientRequest | undefined;
    let res: IncomingMessage | undefined;
    let bytesRead = 0;
    const timers: NodeJS.Timeout[] = [];
    type Outcome = { ok: true; status: number; error: null } | { ok: false; status: number | null; error: string };
    const finish = (r: Outcome) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      res?.destroy();
      req?.destroy();
      settle({ ...r, bytesRead });
    };
    const answered = (status: number): Outcome =>
      status >= 200 && status < 300
        ? { ok: true, status, error: null }
        : { ok: false, status, error: status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}` };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    req = request({
      protocol: url.protocol,
      hostname: host,
      port: url.port || DEFAULT_PORTS[url.protocol],
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
      agent: false,
      lookup: pinnedLookup(addresses),
      // TLS verifies the certificate of the name the user gave, not of the pinned address.
      ...(url.protocol === 'https:' && !isIP(host) ? { servername: host } : {}),
    });
    timers.push(
      setTimeout(
        () =>
          finish({ ok: false, status: res?.statusCode ?? null, error: `timed out after ${limits.timeoutMs / 1000} s` }),
        Math.max(0, deadline - Date.now()),
      ),
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const t = setTimeout(
        () => finish({ ok: false, status: null, error: `no connection within ${limits.connectTimeoutMs / 1000} s` }),
        limits.connectTimeoutMs,
      );
      timers.push(t);
      socket.once('connect', () => clearTimeout(t));
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      // The code only (ECONNREFUSED, CERT_HAS_EXPIRED…): a message could quote what the target sent.
      finish({ ok: false, status: null, error: `connection failed${err.code ? `: ${err.code}` : ''}` }),
    );
    req.on('response', (response) => {
      res = response;
      const status = response.statusCode ?? 0;
      response.on('data', (chunk: Buffer) => {
        bytesRead += chunk.length;
        // Enough: the status is all the hub keeps; a receiver that streams forever is cut off here.
        if (bytesRead >= limits.maxBytes) finish(answered(status));
      });
      response.on('end', () => finish(answered(status)));
      response.on('error', () => finish(answered(status)));
      response.on('close', () => finish(answered(status)));
    });
    req.end(init.body);
  });
}
