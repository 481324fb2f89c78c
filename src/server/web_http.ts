/**
 * The web port's HTTP, pure: which answer a request head gets (the page, the script, the
 * styles, a WebSocket upgrade, or an error status with a one-sentence reason), the Host check
 * of every request (web_names.ts), the Origin and WebSocket checks of an upgrade, and the bytes
 * of a response. web.ts does the I/O.
 *
 * @module
 */
import type { RequestHead } from "../net/http_head.ts";
import { checkHost, type WebNames } from "./web_names.ts";

/**
 * The Content-Security-Policy of every response: the page runs only its own script and styles,
 * connects only to its own origin, and is never framed.
 */
export const CONTENT_SECURITY_POLICY: string = "default-src 'none'; script-src 'self'; " +
  "style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

/** What a request asks for, once checked. */
export type Route =
  | { kind: "page" | "css" | "script"; /** HEAD: the headers without the body. */ head: boolean }
  | { kind: "upgrade"; /** The request's Sec-WebSocket-Key. */ key: string }
  | HttpError;

/** A request refused: its status, one sentence, and any headers the status calls for. */
export interface HttpError {
  /** Marks an error route. */
  kind: "error";
  /** The status code. */
  status: number;
  /** One sentence saying what was wrong and what to do. */
  reason: string;
  /** Extra response headers (`Allow`, `Sec-WebSocket-Version`...). */
  headers?: Record<string, string>;
  /** The host name refused, when the Host is why (a 403 the server logs once per name). */
  refusedName?: string;
}

/** The paths of the web port and what each serves. */
const PATHS: Record<string, "page" | "css" | "script" | "ws"> = {
  "/": "page",
  "/index.html": "page",
  "/app.css": "css",
  "/app.js": "script",
  "/ws": "ws",
};

/**
 * Which answer `head` gets: a resource, an upgrade, or an error. A request whose Host is not
 * one of `names` (nor an IP literal or localhost: see web_names.ts) is refused with 403 whatever
 * it asks for; one without Host (HTTP/1.0) is not checked.
 */
export function route(head: RequestHead, names: WebNames): Route {
  if (!head.target.startsWith("/")) {
    return error(400, `The request target "${clip(head.target)}" is not a path.`);
  }
  const host = head.headers.get("host");
  if ((head.counts.get("host") ?? 0) > 1) return error(400, "The request has more than one Host.");
  if (host === undefined && head.version === "HTTP/1.1") {
    return error(400, "The request has no Host header; HTTP/1.1 requires one.");
  }
  if (host !== undefined) {
    const check = checkHost(names, host);
    if (check.kind === "invalid") {
      return error(400, `The Host "${clip(host)}" is not a host name with an optional port.`);
    }
    if (check.kind === "unknown") return refusedHost(check.name);
  }
  const path = head.target.split("?")[0]!;
  const what = PATHS[path];
  if (what === undefined) {
    return error(404, `Nothing is at "${clip(path)}"; the chat page is at "/".`);
  }
  if (what === "ws") return upgradeRoute(head);
  if (head.method !== "GET" && head.method !== "HEAD") {
    return error(405, `The method "${head.method}" is not allowed here; use GET.`, {
      Allow: "GET, HEAD",
    });
  }
  return { kind: what, head: head.method === "HEAD" };
}

/** The checks of a WebSocket upgrade request (RFC 6455 4.2.1), and the Origin check. */
function upgradeRoute(head: RequestHead): Route {
  if (head.method !== "GET") {
    return error(405, `The method "${head.method}" is not allowed here; use GET.`, {
      Allow: "GET",
    });
  }
  const h = head.headers;
  if (!hasToken(h.get("upgrade"), "websocket")) {
    return error(
      426,
      `"/ws" takes WebSocket connections only; open "/" in a browser to chat.`,
      { Upgrade: "websocket" },
    );
  }
  if (!hasToken(h.get("connection"), "upgrade")) {
    return error(400, `The WebSocket request's Connection header does not say "Upgrade".`);
  }
  const version = h.get("sec-websocket-version");
  if (version !== "13") {
    return error(
      426,
      `The WebSocket version "${clip(version ?? "")}" is not supported; use version 13.`,
      { "Sec-WebSocket-Version": "13" },
    );
  }
  const key = h.get("sec-websocket-key") ?? "";
  if (!isWebSocketKey(key)) {
    return error(
      400,
      `The Sec-WebSocket-Key "${clip(key)}" is not the base64 of 16 bytes.`,
    );
  }
  const origin = h.get("origin");
  if (origin !== undefined && !sameOrigin(origin, h.get("host") ?? "")) {
    return error(
      403,
      `WebSocket connections from the page of "${clip(origin)}" are refused; ` +
        `open the chat page of this server instead.`,
    );
  }
  return { kind: "upgrade", key };
}

/** True if `value` (a comma-separated list) holds `token`, case-insensitively. */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(",").some((t) => t.trim().toLowerCase() === token);
}

/** True if `key` is the base64 of 16 bytes, as a Sec-WebSocket-Key must be. */
export function isWebSocketKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

/**
 * True if the page of `origin` (`scheme://host[:port]`) has the same host and port as `host`
 * (the request's Host header): the page this server served. `null` and unparsable origins are
 * not. Ports are compared with the scheme's default filled in.
 */
export function sameOrigin(origin: string, host: string): boolean {
  let page: URL;
  let asked: URL;
  try {
    page = new URL(origin);
    if (page.protocol !== "http:" && page.protocol !== "https:") return false;
    asked = new URL(`${page.protocol}//${host}`);
  } catch {
    return false;
  }
  return host !== "" && page.host === asked.host && asked.pathname === "/" &&
    asked.username === "" && asked.search === "";
}

/**
 * The 403 of a request for `name`, a host name this server does not answer to: a page whose
 * DNS name was rebound to this server's address, or a name to give with `--web-name`.
 */
export function refusedHost(name: string): HttpError {
  // From hostName(): at most 253 letters, digits, "-", "_" and ".", nothing to clip or escape.
  return {
    kind: "error",
    status: 403,
    reason: `This server does not answer to the name "${name}"; if that is its name, ` +
      `start it with --web-name ${name}.`,
    refusedName: name,
  };
}

/** An error route. */
function error(status: number, reason: string, headers?: Record<string, string>): HttpError {
  return headers === undefined ? { kind: "error", status, reason } : {
    kind: "error",
    status,
    reason,
    headers,
  };
}

/** The reason phrases of the statuses the web port answers with. */
const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();

/**
 * The bytes of a whole response: status line, the headers every answer of the web port has
 * (`Connection: close`, `X-Content-Type-Options: nosniff`, the CSP...), `headers`, and `body`
 * (left out, but its length still said, when `omitBody`: the answer to HEAD).
 */
export function response(
  status: number,
  contentType: string,
  body: Uint8Array,
  { headers = {}, omitBody = false }: { headers?: Record<string, string>; omitBody?: boolean } = {},
): Uint8Array {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${body.length}`,
    "Connection: close",
    "Cache-Control: no-cache",
    "X-Content-Type-Options: nosniff",
    "Referrer-Policy: no-referrer",
    `Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  const head = encoder.encode(lines.join("\r\n") + "\r\n\r\n");
  if (omitBody || body.length === 0) return head;
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/**
 * The response to an error: its status and its sentence as plain text (`omitBody`: the answer
 * to HEAD, its length said but the body left out).
 */
export function errorResponse(e: HttpError, omitBody = false): Uint8Array {
  return response(e.status, "text/plain; charset=utf-8", encoder.encode(e.reason + "\n"), {
    ...(e.headers ? { headers: e.headers } : {}),
    omitBody,
  });
}

/** The answer that switches a request with `Sec-WebSocket-Key` → `accept` to WebSocket. */
export function upgradeResponse(accept: string): Uint8Array {
  return encoder.encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
}

/** `s` shortened for a message, its control characters shown as `?`. */
function clip(s: string): string {
  // deno-lint-ignore no-control-regex
  const plain = s.replace(/[\x00-\x1f\x7f-\xff]/g, "?");
  return plain.length > 60 ? `${plain.slice(0, 57)}...` : plain;
}
