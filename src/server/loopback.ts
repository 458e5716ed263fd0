/**
 * Which `Host` header values and which peer addresses count as "this machine". The browser guards use
 * the first (a DNS-rebinding page reaches us with its own host name in `Host`); /metrics uses the second.
 */

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The host name of a `Host` header, lower-cased, without port, brackets or a trailing dot. */
export function hostName(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end === -1 ? name.slice(1) : name.slice(1, end);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** An IP address (v4, v6 or v4-mapped v6) on the loopback interface. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (IPV4_LOOPBACK.test(a)) return true;
  if (a.startsWith('::ffff:')) return IPV4_LOOPBACK.test(a.slice('::ffff:'.length));
  return a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** `localhost`, any `*.localhost`, 127.0.0.0/8 or [::1], with any port. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

/**
 * Whether a `Host` header is acceptable for an open gateway: loopback, or an entry of `allowed` (a
 * host name, matching any port, or `name:port`, matching that port only). A value naming more than one
 * host (a repeated `Host`, read as fetch reads it: `localhost:8080, evil.example`) is not: HTTP allows
 * one, and the loopback test would otherwise read the first name and let the rest through.
 */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  if (host.includes(',')) return false;
  if (isLoopbackHost(host)) return true;
  const full = host.trim().toLowerCase();
  const name = hostName(host);
  return allowed.some((entry) => {
    const e = entry.trim().toLowerCase();
    const withPort = /:\d+$/.test(e.replace(/^\[[^\]]*\]/, ''));
    return withPort ? e === full : hostName(e) === name;
  });
}
