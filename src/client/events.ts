/**
 * What the client engine reports to a face: every event its user may have to be told about,
 * as data (the view turns each into text).
 *
 * @module
 */

/**
 * Why a connection attempt failed: the TCP errors, and with TLS a certificate the client does
 * not trust (`tls-untrusted`), one made for another name (`tls-name`), or a handshake that
 * broke off, as it does against a server that does not speak TLS (`tls-handshake`).
 */
export type ConnectFailure =
  | "refused"
  | "unknown-host"
  | "timeout"
  | "other"
  | "tls-untrusted"
  | "tls-name"
  | "tls-handshake";

/** Something the client has to tell its user. */
export type ClientEvent =
  | {
    /** A message arrived from `from`. */
    type: "message";
    from: string;
    text: string;
  }
  | {
    /** The server confirmed delivery of the message sent to `to`. */
    type: "sent";
    to: string;
  }
  | {
    /**
     * The server answered ERROR `code` to the message sent to `to`. `attempts` is set when the
     * client sent it that many times, each refused with ERROR 106, and gave up.
     */
    type: "not-delivered";
    to: string;
    code: number;
    text: string;
    attempts?: number;
  }
  | {
    /** The message to `to` never went out; `why` says why (no period). */
    type: "not-sent";
    to: string;
    why: string;
  }
  | {
    /** The message to `to` got no answer; `why` completes "before ...". */
    type: "unconfirmed";
    to: string;
    why: string;
  }
  | {
    /** Both connections are registered. `hint` adds how to type messages; `tls`: encrypted. */
    type: "registered";
    name: string;
    server: string;
    hint: boolean;
    tls?: boolean;
  }
  | {
    /** The server refused the username with ERROR `code`. */
    type: "name-refused";
    name: string;
    code: number;
    text: string;
  }
  | {
    /** The TCP connection (or, with `tls`, the TLS handshake) could not be made. */
    type: "connect-failed";
    server: string;
    host: string;
    reason: ConnectFailure;
    detail: string;
    timeoutMs: number;
    tls?: boolean;
  }
  | {
    /** Connected, but the server did not finish the registration. */
    type: "register-failed";
    server: string;
    reason: "timeout" | "closed" | "full" | "unexpected" | "tls-server";
    detail: string;
    timeoutMs: number;
  }
  | {
    /** A typed line was not sent; `line` is its number when reading from a pipe. */
    type: "invalid-input";
    hint: string;
    line?: number;
  }
  | {
    /** A FORWARD could not be read; the client answered ERROR 103 and carries on. */
    type: "bad-forward";
    reason: string;
  }
  | {
    /** The server sent something that answers nothing the client asked. */
    type: "unexpected";
    what: string;
  }
  | {
    /** The server closed a connection or it broke. */
    type: "disconnected";
    server: string;
    detail: string;
  }
  | {
    /**
     * The connection was lost and the client will try again in `delayMs`. `lost`: the first
     * line after the loss (`detail` says how it was lost); otherwise an attempt failed for a
     * new reason (`detail` says why).
     */
    type: "reconnecting";
    server: string;
    lost: boolean;
    detail: string;
    delayMs: number;
  }
  | {
    /** Both connections are registered again after a loss. */
    type: "reconnected";
    name: string;
    server: string;
  }
  | {
    /** Reconnecting stopped for good: the server refused the name `tries` times. */
    type: "reconnect-failed";
    server: string;
    name: string;
    code: number;
    text: string;
    tries: number;
  }
  | {
    /**
     * The client left: UNREGISTER answered (`confirmed`) or not; `offline` when it left while
     * reconnecting.
     */
    type: "left";
    confirmed: boolean;
    offline?: boolean;
  }
  | {
    /** The user asked for /help. */
    type: "help";
  };
