/**
 * How addresses are written for people: `host:port`, with IPv6 hosts in brackets. Pure, so the
 * client engine can use it in a browser too.
 *
 * @module
 */

/**
 * Formats `host` and `port` as one address, bracketing IPv6 hosts.
 *
 * @example
 * ```ts
 * import { formatAddress, unmapIPv4 } from "./address.ts";
 * console.log(formatAddress("::1", 5500)); // "[::1]:5500"
 * console.log(formatAddress(unmapIPv4("::ffff:127.0.0.1"), 5500)); // "127.0.0.1:5500"
 * ```
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack
 * listener reports for an IPv4 peer), so that logs and per-address limits see one address per
 * peer whichever socket it came through; other hosts unchanged.
 *
 * @example
 * ```ts
 * import { formatAddress, unmapIPv4 } from "./address.ts";
 * console.log(unmapIPv4("::ffff:127.0.0.1")); // "127.0.0.1"
 * console.log(formatAddress(unmapIPv4("::1"), 5500)); // "[::1]:5500"
 * ```
 */
export function unmapIPv4(host: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host);
  return m ? m[1]! : host;
}
