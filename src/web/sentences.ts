/**
 * What the web page says about the engine's events: the terminal's sentences (`render.ts`),
 * except where those name something a browser user does not have (a command-line option, a
 * key file, restarting the client), which are said here the page's way. Pure.
 *
 * @module
 */
import type { ClientEvent } from "../client/events.ts";
import { identityFailure, printable, renderEvent } from "../client/render.ts";

export type { ClientEvent, ConnectFailure } from "../client/events.ts";

/** A notice for the page: its text and how it reads. */
export interface Notice {
  /** One or more sentences. */
  text: string;
  /** Plain, good news, or a problem. */
  tone: "info" | "good" | "problem";
}

const plain = (event: ClientEvent) => renderEvent(event, { color: false });

/**
 * The notice in the Everyone conversation for an event that is not a message, an answer to
 * one, or a presence change (those change the conversations themselves); null for events the
 * page shows otherwise or not at all.
 */
export function eventNotice(event: ClientEvent): Notice | null {
  switch (event.type) {
    case "registered":
      return { text: plain(event), tone: "info" };
    case "reconnecting":
    case "bad-forward":
      return { text: plain(event), tone: "problem" };
    case "reconnected":
      return { text: plain(event), tone: "good" };
    case "reconnect-failed":
      return { text: reconnectFailed(event), tone: "problem" };
    case "disconnected":
      return {
        text: `Lost the connection to the server "${event.server}": ${event.detail}. ` +
          "Join again when the server is back.",
        tone: "problem",
      };
    case "left":
      return { text: plain(event), tone: "info" };
    case "unexpected":
      return { text: plain(event), tone: "info" };
    case "identity":
      return identityNotice(event);
    case "identity-failed":
      return { text: identityProblem(event), tone: "problem" };
    case "negotiated":
      return event.extensions.includes("who")
        ? null
        : { text: "This server does not tell who is online.", tone: "info" };
    default:
      return null;
  }
}

function identityNotice(event: Extract<ClientEvent, { type: "identity" }>): Notice | null {
  const name = printable(event.name);
  switch (event.status) {
    case "created":
    case "proven":
      return null;
    case "claimed":
      return {
        text: `"${name}" now belongs to you on ${event.server}: this browser keeps its key, ` +
          "and only it can use the name there. Messages sent to you while you are away wait " +
          "for you. (Clearing this site's data loses the key.)",
        tone: "good",
      };
    case "unclaimed":
      return { text: plain(event), tone: "info" };
  }
}

/** Why the name could not be proven or claimed, the browser's way for a key held elsewhere. */
function identityProblem(event: Extract<ClientEvent, { type: "identity-failed" }>): string {
  if (event.reason === "not-owner") {
    const name = printable(event.name);
    return `"${name}" belongs to another key on ${event.server}, not to the one this browser ` +
      "holds (its key is with the chat client or browser that claimed it). Choose another " +
      `name; if the key is lost, the server's operator can release the name ("chat server ` +
      `release ${name}").`;
  }
  return identityFailure(event);
}

function reconnectFailed(event: Extract<ClientEvent, { type: "reconnect-failed" }>): string {
  return plain(event)
    .replace(
      "Start the client again, with another name if need be.",
      "Join again, with " +
        "another name if need be.",
    )
    .replace("Start the client again with another name.", "Join again with another name.");
}

/** The join form's sentence for a session that did not open (or ended) because of `event`. */
export function joinProblem(event: ClientEvent): string {
  switch (event.type) {
    case "identity-failed":
      return identityProblem(event);
    case "connect-failed":
      if (event.reason === "timeout") {
        return `Cannot connect to "${event.server}": no answer in time. Check that the chat ` +
          "server is running, then join again.";
      }
      return `Cannot connect to "${event.server}": ${
        printable(event.detail).replace(/\.$/, "")
      }. Join again once it is back.`;
    case "register-failed":
      return plain(event).replace(
        "Add --tls (and --ca FILE if its certificate is self-signed).",
        "Open the page with https.",
      );
    default:
      return eventNotice(event)?.text ?? plain(event);
  }
}
