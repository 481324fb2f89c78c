/**
 * The byte transport under the chat server and client: TCP listeners and connections behind
 * one small callback interface, so the socket API can be swapped in this file alone.
 *
 * Two back ends: `"deno"` (`Deno.listen` / `Deno.connect`, the default of this module and of
 * the client) and `"node"` (`node:net` running inside Deno, the server's default: under load it
 * serves every connection fairly, where `Deno.Conn` read loops starve some; see bench/README.md).
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { formatAddress, unmapIPv4 } from "./address.ts";
import type { Conn, ConnectOptions, ConnHandler, TransportKind } from "./conn.ts";

export type { Conn, ConnectOptions, ConnHandler, TransportKind } from "./conn.ts";

/** A listening socket. */
export interface Listener {
  /** The address actually bound (port 0 becomes a real port). */
  readonly hostname: string;
  /** The port actually bound. */
  readonly port: number;
  /**
   * Stops accepting; open connections stay. Resolves once the listener is fully closed: at once
   * for `"deno"`, and for `"node"` only after every connection it accepted has closed too.
   */
  close(): Promise<void>;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** Interface to bind, such as `0.0.0.0`, `::` or `127.0.0.1`. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Socket API to use. Default `"deno"`. */
  transport?: TransportKind;
  /** Serve TLS with this certificate chain and private key (PEM text). */
  tls?: { cert: string; key: string };
  /**
   * How long a connection told to {@link Conn.end} may take to send what is queued before it
   * is closed anyway (a peer that never reads would otherwise hold it open). Default 10 s.
   */
  endGraceMs?: number;
}

// Each Deno.Conn holds its read buffer for as long as it waits for data, so idle users cost this
// much each, twice (16 KiB made the deno transport's idle user three times as large as node's).
// Chat messages are small; a 64 KiB body just takes a few more reads.
const READ_SIZE = 4 * 1024;

/** Default of {@link ListenOptions.endGraceMs}. */
const END_GRACE_MS = 10_000;

/**
 * The host that means every address of this machine: IPv4 and IPv6 where it has IPv6, IPv4
 * alone (the listener's hostname is then `0.0.0.0`) where it has not.
 */
export const EVERY_ADDRESS = "::";

/**
 * Starts listening; `accept` is called for each new connection and returns its handler. The
 * hostname {@link EVERY_ADDRESS} (`::`) serves IPv4 and IPv6 alike, see {@link listenEverywhere}.
 */
export async function listen(
  options: ListenOptions,
  accept: (conn: Conn) => ConnHandler,
): Promise<Listener> {
  if (options.hostname !== EVERY_ADDRESS) return await listenOne(options, accept);
  return await listenEverywhere(
    (hostname, port) => listenOne({ ...options, hostname, port }, accept),
    options.port,
  );
}

/**
 * Listens on every address with `bind`: on `::` first, which also serves IPv4 where the system
 * makes IPv6 sockets dual-stack (the default of Linux and macOS; neither Deno.listen nor Deno's
 * node:net lets us ask for it, both leave IPV6_V6ONLY as the system sets it). Where `0.0.0.0`
 * on the same port is still free afterwards, `::` serves IPv6 only (Windows, or Linux with
 * net.ipv6.bindv6only=1), so it listens there too. Where the machine has no IPv6 at all, it
 * listens on `0.0.0.0` alone and the listener's hostname says so.
 */
export async function listenEverywhere(
  bind: (hostname: string, port: number) => Promise<Listener>,
  port: number,
): Promise<Listener> {
  let v6: Listener;
  try {
    v6 = await bind("::", port);
  } catch (error) {
    if (!isNoIPv6(error)) throw error;
    return await bind("0.0.0.0", port);
  }
  let v4: Listener;
  try {
    v4 = await bind("0.0.0.0", v6.port);
  } catch {
    return v6; // in use: by `::` itself, which is dual-stack
  }
  return {
    hostname: v6.hostname,
    port: v6.port,
    async close() {
      await Promise.all([v6.close(), v4.close()]);
    },
  };
}

/** True if `error` says that this machine has no IPv6 (rather than, say, a port in use). */
export function isNoIPv6(error: unknown): boolean {
  if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
    return false;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) return true;
  // Deno's node:net reports some of these as "listen EINVAL".
  return /EAFNOSUPPORT|EPROTONOSUPPORT|EADDRNOTAVAIL|listen EINVAL|address family|os error (97|99)\b/i
    .test(String(error));
}

async function listenOne(
  options: ListenOptions,
  accept: (conn: Conn) => ConnHandler,
): Promise<Listener> {
  if ((options.transport ?? "deno") === "node") return await listenNode(options, accept);
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
    })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  const addr = listener.addr as Deno.NetAddr;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let raw: Deno.Conn;
      try {
        raw = await listener.accept();
      } catch (error) {
        if (stopped || error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: wait a little rather than spin.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const conn = new DenoConn(raw, options.endGraceMs);
      let handler: ConnHandler;
      try {
        handler = accept(conn);
      } catch {
        conn.close();
        continue;
      }
      conn.start(handler);
    }
  })();
  return {
    hostname: addr.hostname,
    port: addr.port,
    async close() {
      if (!stopped) {
        stopped = true;
        try {
          listener.close();
        } catch { /* already closed */ }
      }
      await loop;
    },
  };
}

/** Opens a connection; `handler` receives its bytes. Rejects if the connection fails. */
export async function connect(options: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  if ((options.transport ?? "deno") === "node") return await connectNode(options, handler);
  const raw = options.tls
    ? await Deno.connectTls({
      hostname: options.hostname,
      port: options.port,
      ...(options.tls.caCerts ? { caCerts: options.tls.caCerts } : {}),
    })
    : await Deno.connect({ hostname: options.hostname, port: options.port });
  if ("handshake" in raw) {
    try {
      await raw.handshake();
    } catch (error) {
      // A refused certificate or a broken handshake: the socket is of no use, close it.
      try {
        raw.close();
      } catch { /* already closed */ }
      throw error;
    }
  }
  const conn = new DenoConn(raw);
  conn.start(handler);
  return conn;
}

class DenoConn implements Conn {
  readonly remote: string;
  readonly remoteHost: string;
  #raw: Deno.Conn | Deno.TlsConn;
  #handler: ConnHandler | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #sent = 0;
  #writing = false;
  #ending = false;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();
  #writes: Promise<void> = Promise.resolve();
  #doneResolve!: () => void;
  readonly done: Promise<void> = new Promise((r) => this.#doneResolve = r);

  #endGraceMs: number;
  #endTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(raw: Deno.Conn | Deno.TlsConn, endGraceMs = END_GRACE_MS) {
    this.#raw = raw;
    this.#endGraceMs = endGraceMs;
    const addr = raw.remoteAddr as Deno.NetAddr;
    this.remoteHost = unmapIPv4(addr.hostname);
    this.remote = formatAddress(this.remoteHost, addr.port);
    try {
      (raw as Deno.TcpConn).setNoDelay(true);
    } catch { /* not fatal */ }
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get sentBytes(): number {
    return this.#sent;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(handler: ConnHandler): void {
    this.#handler = handler;
    this.#reading = this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    let error: Error | undefined;
    try {
      while (!this.#closed) {
        const n = await this.#raw.read(buf);
        if (n === null) break;
        if (this.#closed) break;
        // A bug in a handler is contained to its own connection.
        this.#handler!.data(buf.subarray(0, n));
      }
    } catch (e) {
      error = e instanceof Error ? e : new Error(String(e));
    }
    this.#finish(error);
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) this.#writes = this.#writeLoop();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#queue[0]!;
        let off = 0;
        while (off < chunk.length) {
          const n = await this.#raw.write(chunk.subarray(off));
          off += n;
          this.#sent += n;
        }
        this.#queue.shift();
        this.#queued -= chunk.length;
      }
    } catch (e) {
      this.#writing = false;
      this.#finish(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.#writing = false;
    if (this.#ending) this.close();
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing) return this.close();
    this.#endTimer = setTimeout(() => this.close(), this.#endGraceMs);
  }

  close(): void {
    this.#finish();
  }

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#endTimer);
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#raw.close();
    } catch { /* already closed */ }
    Promise.all([this.#reading, this.#writes]).then(() => this.#doneResolve());
    this.#handler?.closed(error);
  }
}

async function listenNode(
  options: ListenOptions,
  accept: (conn: Conn) => ConnHandler,
): Promise<Listener> {
  const onSocket = (socket: net.Socket) => {
    const conn = new NodeConn(socket, options.endGraceMs);
    let handler: ConnHandler;
    try {
      handler = accept(conn);
    } catch {
      socket.destroy();
      return;
    }
    conn.start(handler);
  };
  const server: net.Server = options.tls
    ? tls.createServer(
      // A short handshake timeout: a half-open handshake would otherwise hold close() for 120 s.
      { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: 10_000 },
      onSocket,
    )
      .on("tlsClientError", () => {/* a failed handshake concerns that client only */})
    : net.createServer(onSocket);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {/* accept errors: keep serving */});
  const addr = server.address() as net.AddressInfo;
  return {
    hostname: addr.address,
    port: addr.port,
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function connectNode(options: ConnectOptions, handler: ConnHandler): Promise<Conn> {
  const socket: net.Socket = options.tls
    ? tls.connect({
      host: options.hostname,
      port: options.port,
      servername: net.isIP(options.hostname) ? undefined : options.hostname,
      ...(options.tls.caCerts ? { ca: options.tls.caCerts } : {}),
    })
    : net.connect({ host: options.hostname, port: options.port });
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls ? "secureConnect" : "connect", () => {
      socket.off("error", reject);
      resolve();
    });
    socket.once("error", reject);
  });
  const conn = new NodeConn(socket);
  conn.start(handler);
  return conn;
}

class NodeConn implements Conn {
  readonly remote: string;
  readonly remoteHost: string;
  #socket: net.Socket;
  #closed = false;
  #handler: ConnHandler | null = null;
  #doneResolve!: () => void;
  readonly done: Promise<void> = new Promise((r) => this.#doneResolve = r);

  #endGraceMs: number;
  #endTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: net.Socket, endGraceMs = END_GRACE_MS) {
    this.#socket = socket;
    this.#endGraceMs = endGraceMs;
    // Deno's node:net ignores the `noDelay` option of createServer and connect; only this call
    // turns Nagle's algorithm off. With it on, a small answer can wait for a delayed ACK.
    socket.setNoDelay(true);
    this.remoteHost = unmapIPv4(socket.remoteAddress ?? "?");
    this.remote = formatAddress(this.remoteHost, socket.remotePort ?? 0);
  }

  get queuedBytes(): number {
    return this.#socket.writableLength;
  }

  get sentBytes(): number {
    // node:net counts queued bytes in bytesWritten too.
    return this.#socket.bytesWritten - this.#socket.writableLength;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(handler: ConnHandler): void {
    this.#handler = handler;
    let error: Error | undefined;
    this.#socket.on("data", (chunk: Uint8Array) => {
      if (this.#closed) return;
      try {
        handler.data(chunk);
      } catch (e) {
        // A bug in a handler is contained to its own connection.
        error = e instanceof Error ? e : new Error(String(e));
        this.#socket.destroy();
      }
    });
    this.#socket.on("error", (e: Error) => {
      error = e;
    });
    this.#socket.on("close", () => {
      this.#finish(error);
      this.#doneResolve();
    });
    // The peer finished sending: finish ours too (once: a second end() builds an error object).
    this.#socket.on("end", () => this.end());
  }

  write(bytes: Uint8Array): void {
    // As DenoConn does: after end(), writes are ignored ("write after end" would destroy it).
    if (!this.#closed && !this.#socket.writableEnded) this.#socket.write(bytes);
  }

  end(): void {
    // As DenoConn does: close once the queued bytes are out, without waiting for the peer to
    // close its side too (a peer that never does would hold the connection, and count toward
    // the connection limits, for ever).
    if (!this.#closed && !this.#socket.writableEnded) {
      this.#socket.end(() => this.#socket.destroy());
      this.#endTimer = setTimeout(() => this.close(), this.#endGraceMs);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.destroy();
    this.#finish();
  }

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#endTimer);
    this.#handler?.closed(error);
  }
}
