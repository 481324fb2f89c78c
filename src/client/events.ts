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
    /**
     * A message arrived from `from`. `toAll`: it was sent to everyone (`SEND ALL`); only a
     * server that negotiated the `to` extension says so.
     */
    type: "message";
    from: string;
    text: string;
    toAll?: boolean;
    /**
     * With `mail`: the message waited on the server while the user was offline; `mail` is its
     * id (a duplicate of an id already shown is dropped by the engine and never reported) and
     * `sentAt` when it was sent (milliseconds since the epoch).
     */
    mail?: number;
    sentAt?: number;
  }
  | {
    /**
     * With `mail`: message `id` to `to`, who is offline, was stored on the server as mail
     * number `mail` (one tick); a `receipt` follows when it is delivered.
     */
    type: "stored";
    id: number;
    to: string;
    mail: number;
  }
  | {
    /**
     * With `mail`: what became of stored message `mail` to `to` (PROTOCOL.md, receipts):
     * `delivered` (two ticks), `expired`, `refused` or `released`. `id` is the message's number
     * in this session when it was sent in this session; `sentAt` when it was stored. A duplicate
     * receipt is dropped by the engine.
     */
    type: "receipt";
    mail: number;
    to: string;
    event: "delivered" | "expired" | "refused" | "released";
    sentAt: number;
    id?: number;
  }
  | {
    /**
     * With `identity`: what happened to the user's ownership of its name on this server.
     * `created`: a new key pair was made (the face saves it: see `ChatSessionOptions.identity`);
     * `claimed`: the name now belongs to this key; `proven`: the connections proved the key
     * (the name was already this key's); `unclaimed`: the server no longer knew the name (its
     * operator released it, or its data was lost) and the client claims it again.
     */
    type: "identity";
    status: "created" | "claimed" | "proven" | "unclaimed";
    name: string;
    server: string;
  }
  | {
    /**
     * With `identity`: the name could not be proven or claimed. `not-owner`: it belongs to
     * another key (the session ends: see the README on moving or losing a key); `lookalike`: a
     * claim refused because a name that looks the same is registered (tried again next time);
     * `bad-proof`, `not-stored`: the server's reasons; `no-support`: the server answered
     * CHALLENGE as a base server would (it was replaced), so the client registered without
     * proof. `detail` is for people.
     */
    type: "identity-failed";
    reason: "not-owner" | "lookalike" | "bad-proof" | "not-stored" | "no-support";
    name: string;
    server: string;
    detail: string;
  }
  | {
    /**
     * The server confirmed delivery of message `id` (the number {@link ChatSession.send}
     * returned) sent to `to`. For a broadcast, a server with the `reason` extension also says
     * how many of how many other online users got it (`recipients` 0: nobody else was online).
     */
    type: "sent";
    id: number;
    to: string;
    delivered?: number;
    recipients?: number;
  }
  | {
    /**
     * The server answered ERROR `code` to message `id` sent to `to`. `attempts` is set when the
     * client sent it that many times, each refused with ERROR 106, and gave up. With the
     * `reason` extension: `reason` is the server's token (PROTOCOL.md: `offline`, `too-large`,
     * ...), `maxBody` the server's body limit (with `too-large`), and for a broadcast how many
     * of how many recipients got it. With `mail`: `limit` is the mailbox limit that refused it
     * (`Limit:`, messages with `mailbox-full`, bytes with `mailbox-bytes`).
     */
    type: "not-delivered";
    id: number;
    to: string;
    code: number;
    text: string;
    attempts?: number;
    reason?: string;
    maxBody?: number;
    limit?: number;
    delivered?: number;
    recipients?: number;
  }
  | {
    /** Message `id` to `to` never went out; `why` says why (no period). */
    type: "not-sent";
    id: number;
    to: string;
    why: string;
  }
  | {
    /** Message `id` to `to` got no answer; `why` completes "before ...". */
    type: "unconfirmed";
    id: number;
    to: string;
    why: string;
  }
  | {
    /**
     * The extension negotiation ended (after each registration, also after a reconnect):
     * `extensions` are those the server agreed to (empty: a base-protocol server), `maxBody`
     * the largest body it takes, when it said.
     */
    type: "negotiated";
    extensions: string[];
    maxBody?: number;
  }
  | {
    /**
     * Who is online now, the user included: the whole list, replacing any earlier one (the
     * `who` extension, sent after negotiation and in answer to "who"; with `joins` also in
     * place of joined and left notices the server could not send).
     */
    type: "online";
    names: string[];
  }
  | {
    /** Another user came online (the `joins` extension). */
    type: "user-joined";
    name: string;
  }
  | {
    /** Another user went offline (the `joins` extension). */
    type: "user-left";
    name: string;
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
     * reconnecting; `plain` when the server did not agree to the `unregister` extension (a
     * base-protocol server), so the client closed its connections without UNREGISTER, as a
     * base client leaves (`confirmed` is then false, and nothing went wrong).
     */
    type: "left";
    confirmed: boolean;
    offline?: boolean;
    plain?: true;
  }
  | {
    /** The user asked for /help. */
    type: "help";
  };
