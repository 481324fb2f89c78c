/**
 * The web edge: one {@link WebConnection} per connection accepted on the web port. It reads the
 * HTTP request head (web_http.ts decides the answer): the page, its script and styles are
 * answered and the connection closed; a WebSocket upgrade on `/ws` turns it into a {@link Conn}
 * whose bytes are the payloads of binary frames, and an ordinary {@link Session} runs over it,
 * so every rule, limit and timeout of the TCP edge applies unchanged.
 *
 * The session exists from the moment the connection is accepted: a connection that has not
 * upgraded yet counts against the connection limits and is closed at the registration deadline
 * like any other. A connection refused at a limit is answered 503 at once and closed, without
 * waiting for its request (as the TCP port sends ERROR 105 and closes). One that sent nothing
 * by the deadline is closed by the hub as unused (browsers open spare connections ahead), in
 * neutral words; one waiting for the script is not cut by the deadline (see `closed`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Conn, ConnHandler } from "../net/conn.ts";
import { HeadParser, type RequestHead } from "../net/http_head.ts";
import {
  closePayload,
  encodeFrame,
  FrameDecoder,
  type FrameEvent,
  Opcode,
} from "../net/websocket.ts";
import { Session, type SessionHost } from "./session.ts";
import type { LogEvent } from "./log.ts";
import { errorResponse, type HttpError, response, route, upgradeResponse } from "./web_http.ts";
import { RefusedNames, type WebNames, webNames } from "./web_names.ts";

/** The bundled browser client, or why it cannot be had (one sentence). */
export type ScriptResult = { ok: true; js: Uint8Array } | { ok: false; reason: string };

/** What the web port serves besides the WebSocket (src/web/assets.ts has the real ones). */
export interface WebAssets {
  /** The page (`GET /`). */
  readonly html: string;
  /** Its styles (`GET /app.css`). */
  readonly css: string;
  /** The bundled client (`GET /app.js`); asked on each request, so it should cache. */
  script(): Promise<ScriptResult>;
}

/** What a web connection needs of its hub: a session host, and the log. */
export interface WebHost extends SessionHost {
  /** Logs an event of the web edge. */
  log(event: LogEvent): void;
  /**
   * Web connections that have sent nothing yet, which a connection joins as it is accepted and
   * leaves at its first byte: the hub closes them at the registration deadline (see
   * {@link WebConnection.closeUnused}) before the router would drop them as not registered.
   */
  readonly unusedWeb: Set<WebConnection>;
}

/**
 * The resources of one web port, encoded once, and the names it answers to; a script that
 * failed is logged once, and so is each name refused (see {@link WebSite.refused}).
 */
export class WebSite {
  /** The page's bytes. */
  readonly html: Uint8Array;
  /** The styles' bytes. */
  readonly css: Uint8Array;
  /** The host names answered to besides IP literals and localhost (web_names.ts). */
  readonly names: WebNames;
  readonly #assets: WebAssets;
  readonly #log: (event: LogEvent) => void;
  readonly #refused = new RefusedNames();
  #failed = false;
  /** The script once it was had: answered at once from then on. */
  #ready: Uint8Array | null = null;

  /**
   * The site of `assets` answering to `names`; a script that cannot be had is logged with `log`,
   * once.
   */
  constructor(assets: WebAssets, log: (event: LogEvent) => void, names: WebNames = webNames([])) {
    const encoder = new TextEncoder();
    this.html = encoder.encode(assets.html);
    this.css = encoder.encode(assets.css);
    this.names = names;
    this.#assets = assets;
    this.#log = log;
  }

  /**
   * Logs that `remote` asked for a host name this site does not answer to: once per name, and
   * for at most 100 names an hour (see {@link RefusedNames}), so that a page making up names
   * floods neither the log nor the memory.
   */
  refused(name: string, remote: string): void {
    const note = this.#refused.note(name, performance.now());
    if (note === null) return;
    this.#log({
      event: "dropped",
      remote,
      reason: `asked the web port for the host name "${name}", which this server does not ` +
        `answer to (a page of another site, by DNS rebinding; if it is this server's name, start ` +
        `it with --web-name ${name}); ` +
        (note === "last"
          ? "no more refused names are logged for an hour"
          : "further requests for this name are not logged"),
    });
  }

  /** The script if it was had already (then a request for it is answered at once), or null. */
  get ready(): Uint8Array | null {
    return this.#ready;
  }

  /** The script, or an error with one sentence (never throws). */
  async script(): Promise<ScriptResult> {
    let result: ScriptResult;
    try {
      result = await this.#assets.script();
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      result = { ok: false, reason: `The web client could not be loaded: ${why}.` };
    }
    if (result.ok) this.#ready = result.js;
    if (!result.ok && !this.#failed) {
      this.#failed = true;
      this.#log({ event: "web-error", reason: result.reason });
    }
    return result;
  }
}

/** Where a connection is: reading the head, a WebSocket, or finished. */
const HEAD = 0;
const OPEN = 1;
const FINISHED = 2;

/** Payloads up to this size are copied behind their header (one write); larger ones are not. */
const COPY_BELOW = 16 * 1024;

/**
 * One connection of the web port: an HTTP request, then (upgraded) a WebSocket carrying the
 * protocol's bytes. It is the {@link Conn} of its session; {@link handler} is the raw connection's.
 */
export class WebConnection implements Conn {
  /** The session on this connection (made at once: see the module's documentation). */
  readonly session: Session;
  readonly #raw: Conn;
  readonly #host: WebHost;
  readonly #site: WebSite;
  #state = HEAD;
  /** True when the port speaks TLS; false until the first bytes arrive on a plain one. */
  #tlsOrSeen: boolean;
  #parser: HeadParser | null = new HeadParser();
  #decoder: FrameDecoder | null = null;
  /** Bytes the router wrote before the upgrade, and their total. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** True while the session is being made (the router may refuse the connection then). */
  #accepting = true;
  /** A close frame was sent: nothing more is written. */
  #closeSent = false;
  /** Asked for the script: an HTTP exchange the router no longer watches (see `closed`). */
  #script = false;
  readonly #onFrame = (e: FrameEvent) => this.#frame(e);
  /** The handler of the raw connection. */
  readonly handler: ConnHandler = {
    data: (chunk) => this.#data(chunk),
    closed: (error) => this.#rawClosed(error),
  };

  /** Takes the raw connection `raw` of a web port (`tls`: HTTPS) into `host`. */
  constructor(host: WebHost, raw: Conn, tls: boolean, site: WebSite) {
    this.#raw = raw;
    this.#host = host;
    this.#site = site;
    this.#tlsOrSeen = tls;
    // The session sees WebSocket payloads, never the raw bytes: its own TLS check (for the TCP
    // port) would take a payload starting 16 03 for a handshake. This edge checks them (#head).
    this.session = new Session(host, this, true);
    this.#accepting = false;
    if (this.#state === HEAD) host.unusedWeb.add(this);
  }

  /** See {@link Conn.remote}. */
  get remote(): string {
    return this.#raw.remote;
  }

  /** See {@link Conn.remoteHost}. */
  get remoteHost(): string {
    return this.#raw.remoteHost;
  }

  /** Bytes not yet handed to the kernel, those held until the upgrade included. */
  get queuedBytes(): number {
    return this.#raw.queuedBytes + this.#pendingBytes;
  }

  /** See {@link Conn.sentBytes}. */
  get sentBytes(): number {
    return this.#raw.sentBytes;
  }

  /**
   * See {@link Conn.closed}. True too, to the router, from the moment the script is asked for:
   * the connection will never carry the protocol, and the registration deadline must not cut
   * it while the script is made (bounded by the bundler's timeout) and sent (bounded by the
   * grace of `end()`). It still counts against the connection limits until it really closes.
   */
  get closed(): boolean {
    return this.#raw.closed || this.#script;
  }

  /** See {@link Conn.done}. */
  get done(): Promise<void> {
    return this.#raw.done;
  }

  /** Sends `bytes` as one binary message (held until the upgrade if it has not happened). */
  write(bytes: Uint8Array): void {
    if (this.#closeSent || this.#raw.closed) return;
    if (this.#state === OPEN) return this.#binary(bytes);
    if (this.#state === FINISHED) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
  }

  /**
   * Sends a close frame after what is queued, then closes: 1001 (going away) when the server is
   * shutting down, else 1000.
   */
  end(): void {
    if (this.#raw.closed) return;
    if (this.#state === OPEN) return this.#closeNormally();
    if (this.#state === FINISHED) return this.#raw.end();
    // Refused at a limit as it arrived: as on the TCP port (ERROR 105, then closed), a 503 now
    // and closed, without waiting for a request. Held until the registration deadline, refused
    // connections would pile up and count against --max-connections themselves.
    if (this.#accepting) return this.#answer(errorResponse(unavailable()));
    // Shutting down: a connection still reading its request head is ended now.
    this.#state = FINISHED;
    this.#raw.end();
  }

  /** Closes now. */
  close(): void {
    this.#raw.close();
  }

  /**
   * Closes a connection that sent nothing before the registration deadline, saying so in
   * neutral words: browsers open connections ahead of need and often leave them unused.
   */
  closeUnused(): void {
    if (this.#raw.closed) return;
    this.#host.unusedWeb.delete(this);
    const ms = this.#host.router.options.registerTimeoutMs;
    this.#host.log({
      event: "dropped",
      remote: this.remote,
      reason: `unused: no HTTP request within ${ms} ms (browsers open spare connections ahead)`,
    });
    this.#raw.close();
  }

  /** Bytes arrived on the raw connection. */
  #data(chunk: Uint8Array): void {
    if (this.#state === HEAD) this.#host.unusedWeb.delete(this);
    switch (this.#state) {
      case OPEN:
        return this.#decoder!.push(chunk, this.#onFrame);
      case HEAD:
        return this.#head(chunk);
    }
  }

  /** The raw connection closed: so did the session's. */
  #rawClosed(error?: Error): void {
    this.#host.unusedWeb.delete(this);
    this.#state = FINISHED;
    this.#parser = null;
    this.#decoder = null;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.session.closed(error);
  }

  #head(chunk: Uint8Array): void {
    if (!this.#tlsOrSeen) {
      this.#tlsOrSeen = true;
      // 0x16: a TLS handshake record (a browser opening https:// on this plain port). Say so
      // and close, rather than answer it in HTTP it cannot read.
      if (chunk[0] === 0x16) {
        this.#parser = null;
        this.#state = FINISHED;
        return this.#host.router.drop(
          this.session.link,
          "it speaks TLS, but this web port does not (no --tls-cert): open the page with http://",
        );
      }
    }
    const result = this.#parser!.push(chunk);
    if (result.state === "partial") return;
    this.#parser = null;
    if (result.state === "error") {
      return this.#answer(errorResponse({ kind: "error", ...result }));
    }
    this.#route(result.head, result.rest);
  }

  #route(head: RequestHead, rest: Uint8Array): void {
    const r = route(head, this.#site.names);
    const bare = head.method === "HEAD"; // the answer to HEAD has no body, errors' neither
    if (r.kind === "error") {
      if (r.refusedName !== undefined) this.#site.refused(r.refusedName, this.remote);
      return this.#answer(errorResponse(r, bare));
    }
    if (r.kind === "upgrade") return this.#upgrade(r.key, rest);
    if (r.kind === "page") {
      return this.#answer(response(200, "text/html; charset=utf-8", this.#site.html, {
        omitBody: r.head,
      }));
    }
    if (r.kind === "css") {
      return this.#answer(response(200, "text/css; charset=utf-8", this.#site.css, {
        omitBody: r.head,
      }));
    }
    const ready = this.#site.ready;
    if (ready !== null) {
      return this.#answer(response(200, "text/javascript; charset=utf-8", ready, {
        omitBody: r.head,
      }));
    }
    this.#state = FINISHED; // waiting for the script: further input is ignored
    this.#script = true;
    this.#site.script().then((s) => {
      if (this.#raw.closed) return;
      this.#answer(
        s.ok
          ? response(200, "text/javascript; charset=utf-8", s.js, { omitBody: r.head })
          : errorResponse({ kind: "error", status: 503, reason: s.reason }, r.head),
      );
    });
  }

  /** Writes a whole HTTP answer and ends the connection. */
  #answer(bytes: Uint8Array): void {
    this.#state = FINISHED;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#raw.write(bytes);
    this.#raw.end();
  }

  /**
   * Answers the upgrade (at once, in the read that completed the request: a client that
   * half-closes after its request still gets it) and reads `rest`, what followed the head.
   */
  #upgrade(key: string, rest: Uint8Array): void {
    this.#raw.write(upgradeResponse(acceptKeyNow(key)));
    this.#state = OPEN;
    this.#decoder = new FrameDecoder({ masked: true });
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const bytes of pending) this.#binary(bytes);
    if (rest.length > 0) this.#decoder.push(rest, this.#onFrame);
  }

  #frame(e: FrameEvent): void {
    // Closed by what an earlier event of the same chunk set off: the rest is not read.
    if (this.#closeSent || this.#state !== OPEN) return;
    switch (e.type) {
      case "data":
        return this.session.data(e.bytes);
      case "ping":
        this.#raw.write(encodeFrame(Opcode.Pong, e.payload));
        // A ping flood from a peer that reads nothing must not pile up pongs without bound.
        if (this.#raw.queuedBytes > this.#host.router.options.maxWriteQueueBytes) {
          this.#host.router.drop(
            this.session.link,
            "too slow: it does not read what the server sends",
          );
        }
        return;
      case "pong":
        return;
      case "close":
        // Answer with the same code (none if none was sent), then close.
        this.#closeSent = true;
        this.#raw.write(
          encodeFrame(
            Opcode.Close,
            e.code === undefined ? new Uint8Array(0) : closePayload(e.code, ""),
          ),
        );
        return this.#raw.end();
      case "error":
        // The log line adds "; connection closed": the sentence goes in without its period.
        this.#host.router.protocolError(this.session.link, e.reason.replace(/\.$/, ""), true);
        return this.#close(e.code, e.reason);
    }
  }

  /** Sends one binary frame of `payload`. */
  #binary(payload: Uint8Array): void {
    if (payload.length < COPY_BELOW) return this.#raw.write(encodeFrame(Opcode.Binary, payload));
    // A large payload is not copied: its header and itself are two writes.
    this.#raw.write(binaryHeader(payload.length));
    this.#raw.write(payload);
  }

  /** Ends with 1001 during a shutdown, else 1000. */
  #closeNormally(): void {
    if (this.#host.router.draining) this.#close(1001, "The server is shutting down.");
    else this.#close(1000, "");
  }

  /** Sends a close frame with `code` and `reason`, then ends. */
  #close(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.#raw.write(encodeFrame(Opcode.Close, closePayload(code, reason)));
    this.#raw.end();
  }
}

/**
 * The `Sec-WebSocket-Accept` value for `key`, computed at once (node:crypto): the same as the
 * codec's `acceptKey`, which uses WebCrypto (asynchronous) so that browsers can run it.
 */
export function acceptKeyNow(key: string): string {
  return createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
}

/** The GUID of RFC 6455 that a key is hashed with. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The answer to a connection refused at a limit, sent as soon as it is accepted. */
function unavailable(): HttpError {
  return {
    kind: "error",
    status: 503,
    reason: "The server has too many connections now; try again later.",
    headers: { "Retry-After": "10" },
  };
}

/** The header of an unmasked binary frame (FIN set) of `length` bytes. */
export function binaryHeader(length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x82, length);
  if (length < 0x1_0000) return Uint8Array.of(0x82, 126, length >>> 8, length & 0xff);
  const high = Math.floor(length / 0x1_0000_0000);
  const low = length >>> 0;
  return Uint8Array.of(
    0x82,
    127,
    high >>> 24,
    (high >>> 16) & 0xff,
    (high >>> 8) & 0xff,
    high & 0xff,
    low >>> 24,
    (low >>> 16) & 0xff,
    (low >>> 8) & 0xff,
    low & 0xff,
  );
}
