/**
 * Reading what the server sends on a link's two connections: the registration answers (and
 * those to a proof before REGISTER), the answers on TOSEND, the FORWARDs on TORECV (each
 * acknowledged at once), and what cannot be read. No runtime API: it runs in a browser too.
 *
 * @module
 */
import {
  type DecodeEvent,
  describeDecodeError,
  encode,
  ErrorCode,
  errorMessage,
  type Half,
  type Message,
} from "../protocol/mod.ts";
import type { ClientEvent } from "./events.ts";
import { type Link, serverDecoder } from "./link.ts";
import { messageLine } from "./render.ts";

/** What reading needs from its session. */
export interface ReadHost {
  /** The user's name. */
  readonly name: string;
  /** True when the session speaks TLS (no sniffing for a TLS server's answer then). */
  readonly tls: boolean;
  /** True while `link` is the session's link and the session has not ended. */
  current(link: Link): boolean;
  /** An answer on TOSEND once it is registered. */
  answer(link: Link, m: Message): void;
  /** A FORWARD on TORECV once it is registered, already acknowledged. */
  forward(link: Link, m: Message & { type: "FORWARD" }): void;
  /** The connection is of no more use (`detail` says why). */
  lost(link: Link, detail: string): void;
  /** Reports an event. */
  emit(event: ClientEvent): void;
}

/** The `unexpected` event for `m`. */
export function unexpected(m: Message): ClientEvent {
  return { type: "unexpected", what: JSON.stringify(messageLine(m)) };
}

/** Bytes `chunk` arrived on `half` of `link`. */
export function readChunk(host: ReadHost, link: Link, half: Half, chunk: Uint8Array): void {
  if (!host.current(link)) return;
  if (!host.tls && link.sniffTls(half, chunk)) return;
  if (half === "TOSEND") {
    link.sendDecoder.feed(chunk, (e) => onSendEvent(host, link, e));
    return;
  }
  link.recvDecoder.feed(chunk, (e) => onRecvEvent(host, link, e));
  // After a fatal error the rest of this chunk is lost; start afresh with the next one.
  if (link.recvDecoder.dead) link.recvDecoder = serverDecoder();
}

/** A registration answer on `half`; reports the registration once both halves have one. */
function onRegistration(host: ReadHost, link: Link, half: Half, m: Message): void {
  if (link.answer(half, m, host.name)) host.emit(link.registeredEvent(host.name, host.tls));
}

function onSendEvent(host: ReadHost, link: Link, e: DecodeEvent): void {
  if (!host.current(link) || link.dead) return;
  if (e.kind === "error" && !link.registered.has("TOSEND")) return link.garbled(e.error);
  if (e.kind === "error") {
    host.emit({ type: "unexpected", what: describeDecodeError(e.error) });
    if (e.error.fatal) {
      // The answers can no longer be told apart: this connection is of no more use.
      host.lost(link, "it sent something this client cannot read");
    }
    return;
  }
  const m = e.message;
  if (!link.registered.has("TOSEND")) return onRegistration(host, link, "TOSEND", m);
  host.answer(link, m);
}

function onRecvEvent(host: ReadHost, link: Link, e: DecodeEvent): void {
  if (!host.current(link) || link.dead) return;
  const recv = link.recv;
  if (e.kind === "error" && !link.registered.has("TORECV")) return link.garbled(e.error);
  if (e.kind === "error") {
    recv?.write(encode(errorMessage(ErrorCode.HeaderIncomplete)));
    host.emit({ type: "bad-forward", reason: describeDecodeError(e.error) });
    return;
  }
  const m = e.message;
  if (!link.registered.has("TORECV")) return onRegistration(host, link, "TORECV", m);
  if (m.type === "FORWARD") {
    recv?.write(encode({ type: "RECEIVED", from: m.from }));
    host.forward(link, m);
    return;
  }
  host.emit(unexpected(m));
}
