/**
 * How chat lines read on the terminal: each starts with the local time (HH:MM), messages show
 * who wrote to whom (a message to everyone says so), the user's own messages carry a delivery
 * mark, and every line is wrapped to the terminal's width with a hanging indent. Pure.
 *
 * @module
 */
import { BROADCAST } from "../protocol/mod.ts";
import { colorName, paint } from "./palette.ts";
import { printable } from "./render.ts";
import { displayWidth, wrap } from "./wrap.ts";

/** How to draw: with colour or not, the terminal's width, and the user's own name. */
export interface LineStyle {
  /** Use ANSI colours. */
  color: boolean;
  /** Columns of the terminal. */
  width: number;
  /** The user's own name (drawn in its own colour). */
  self: string;
}

/**
 * The delivery state of one of the user's messages: awaiting an answer, stored on the server
 * for a recipient who is offline (one tick), delivered (two ticks), not delivered, or not
 * confirmed.
 */
export type DeliveryMark = "pending" | "stored" | "delivered" | "failed" | "unknown";

const MARKS: Readonly<Record<DeliveryMark, [string, string]>> = {
  pending: ["· ", "2"],
  stored: ["✓ ", "32"],
  delivered: ["✓✓", "32"],
  failed: ["✗ ", "31"],
  unknown: ["? ", "33"],
};

/** The column (from 0) of the mark in the first row of the user's own message line. */
export const MARK_COLUMN = 6;

/**
 * Columns every mark takes: all marks are as wide, so that one can be written over another
 * in place.
 */
export const MARK_WIDTH = 2;

/**
 * The mark for `state` ({@link MARK_WIDTH} columns), coloured when `color`; with `bare`, without
 * the padding (as a legend in a sentence writes it).
 */
export function markText(state: DeliveryMark, color: boolean, bare = false): string {
  const [mark, code] = MARKS[state];
  return paint(color, code, bare ? mark.trimEnd() : mark);
}

/** The local time of `now` as HH:MM. */
export function clock(now: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(now.getHours())}:${two(now.getMinutes())}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * When something happened (`at`, milliseconds since the epoch), for people, as seen at `now`
 * (local time): `09:12` the same day, `Tue 09:12` within the six days before, `2 Dec 09:12`
 * earlier that year, `2 Dec 2025 09:12` before.
 */
export function when(at: number, now: Date): string {
  const date = new Date(at);
  const time = clock(date);
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const daysAgo = Math.round((day(now) - day(date)) / 86_400_000);
  if (daysAgo === 0) return time;
  if (daysAgo > 0 && daysAgo < 7) return `${DAYS[date.getDay()]} ${time}`;
  const dayMonth = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === now.getFullYear()
    ? `${dayMonth} ${time}`
    : `${dayMonth} ${date.getFullYear()} ${time}`;
}

/** `head` then `text`, wrapped; further rows and lines indented to where `text` starts. */
function hang(head: string, text: string, style: LineStyle): string {
  return wrap(head + text, style.width, displayWidth(head)).join("\n");
}

/** Message text made safe to print, its lines kept. */
function body(text: string): string {
  return text.split(/\r?\n/).map(printable).join("\n");
}

/**
 * An incoming message: `HH:MM xyz: text`, or `HH:MM xyz to everyone: text`; one that waited on
 * the server while the user was offline says when it was sent (`sent`, as {@link when} writes
 * it): `HH:MM xyz (sent 09:12): text`.
 */
export function incomingLine(
  time: string,
  from: string,
  text: string,
  toAll: boolean,
  style: LineStyle,
  sent?: string,
): string {
  const name = colorName(style.color, printable(from), style.self);
  const waited = sent === undefined ? "" : ` ${paint(style.color, "2", `(sent ${sent})`)}`;
  const head = `${paint(style.color, "2", time)} ${name}${toAll ? " to everyone" : ""}` +
    `${waited}: `;
  return hang(head, body(text), style);
}

/**
 * One of the user's messages: `HH:MM ·  abc → xyz: text` (the mark at {@link MARK_COLUMN},
 * {@link MARK_WIDTH} columns).
 */
export function ownLine(
  time: string,
  state: DeliveryMark,
  to: string,
  text: string,
  style: LineStyle,
): string {
  const self = colorName(style.color, printable(style.self), style.self);
  const target = to === BROADCAST ? "everyone" : colorName(style.color, printable(to), style.self);
  const head = `${paint(style.color, "2", time)} ${markText(state, style.color)} ${self} → ` +
    `${target}: `;
  return hang(head, body(text), style);
}

/**
 * A notice or report: `HH:MM text`, wrapped under the text; `code` colours the text (SGR), as
 * red for a problem.
 */
export function noticeLine(time: string, text: string, style: LineStyle, code?: string): string {
  const painted = code === undefined ? text : paint(style.color, code, text);
  return hang(`${paint(style.color, "2", time)} `, painted, style);
}

/** The first `max` characters of `text` on one line, with … when cut, for a short quote. */
export function snippet(text: string, max = 20): string {
  const flat = printable(text.replace(/\s+/g, " ").trim());
  const chars = [...flat];
  return chars.length <= max ? flat : chars.slice(0, max - 1).join("") + "…";
}

/**
 * What became of one of the user's stored messages, as one sentence: `event` the receipt's,
 * `to` the recipient (printable), `at` when it was stored (as {@link when} writes it), and
 * `text` the message when this session sent it (quoted short).
 */
export function receiptText(
  event: "delivered" | "expired" | "refused" | "released",
  to: string,
  at: string,
  text?: string,
): string {
  const message = `your message${text === undefined ? "" : ` ("${snippet(text)}")`} of ${at}`;
  switch (event) {
    case "delivered":
      return `${to} got ${message}.`;
    case "expired":
      return `Your message to ${to}${message.slice("your message".length)} expired unread: ` +
        "it waited longer than the server keeps messages. Send it again if it still matters.";
    case "refused":
      return `${to}'s client refused ${message}; the server deleted it.`;
    case "released":
      return `Your message to ${to}${message.slice("your message".length)} was deleted ` +
        `unread: the server's operator released the name "${to}", which may belong to ` +
        "someone else from now on.";
  }
}

/** Plain text (every line wrapped to the width, no timestamp), as /help prints. */
export function plainLines(text: string, style: LineStyle): string {
  return text.split("\n").map((l) => wrap(l, style.width, 2).join("\n")).join("\n");
}
