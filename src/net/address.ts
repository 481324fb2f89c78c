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
 * import { formatAddress } from "./address.ts";
 * console.log(formatAddress("::1", 5500)); // "[::1]:5500"
 * ```
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
