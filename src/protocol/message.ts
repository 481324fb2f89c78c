/**
 * The protocol's messages as values.
 *
 * @module
 */
/** Which half of a user a connection is: the one the client sends on, or the one it receives on. */
export type Half = "TOSEND" | "TORECV";

/**
 * One header line the protocol itself gives no meaning: its name and its value, both without
 * the spaces around them (`X-Client: mine` is `["X-Client", "mine"]`). `Content-length` is never
 * one: it is the body's length.
 */
export type Header = readonly [name: string, value: string];

/**
 * One protocol message, in either direction. Bodies are raw bytes: Content-length counts bytes.
 *
 * `headers` holds the message's other header lines, in the order they came, and is present only
 * when there were some: the decoder sets it for header lines it does not know, and the encoder
 * writes them after `Content-length` (or after the first line). Base-protocol peers must never be
 * sent any (see "Extension registry" in PROTOCOL.md).
 */
export type Message =
  | { type: "REGISTER"; half: Half; name: string; headers?: readonly Header[] }
  | { type: "REGISTERED"; half: Half; name: string; headers?: readonly Header[] }
  | { type: "SEND"; to: string; body: Uint8Array; headers?: readonly Header[] }
  | { type: "SENT"; to: string; headers?: readonly Header[] }
  | { type: "FORWARD"; from: string; body: Uint8Array; headers?: readonly Header[] }
  | { type: "RECEIVED"; from: string; headers?: readonly Header[] }
  | { type: "ERROR"; code: number; text: string; headers?: readonly Header[] }
  | { type: "UNREGISTER"; name: string; headers?: readonly Header[] }
  | { type: "UNREGISTERED"; name: string; headers?: readonly Header[] };

/** The verb of a message, such as `"SEND"`: exactly the keys of the vocabulary's `VERBS`. */
export type MessageType = Message["type"];
