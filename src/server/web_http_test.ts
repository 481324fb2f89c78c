import assert from "node:assert/strict";
import { parseHead, type RequestHead } from "../net/http_head.ts";
import {
  CONTENT_SECURITY_POLICY,
  errorResponse,
  hasToken,
  isWebSocketKey,
  refusedHost,
  response,
  route,
  sameOrigin,
  upgradeResponse,
} from "./web_http.ts";
import { formatLogEvent, webUrl } from "./log.ts";
import { webNames } from "./web_names.ts";

function head(text: string): RequestHead {
  const r = parseHead(text.replaceAll("\n", "\r\n"));
  if (r.state !== "done") throw new Error(JSON.stringify(r));
  return r.head;
}

/** The names the routes below answer to, besides addresses and localhost. */
const NAMES = webNames(["h", "chat.lan"]);

/** The route of the request head `text` (LF line ends) on a port answering to {@link NAMES}. */
function routed(text: string) {
  return route(head(text), NAMES);
}

const WS =
  "GET /ws HTTP/1.1\nHost: chat.lan:8080\nUpgrade: websocket\nConnection: keep-alive, Upgrade\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n";

Deno.test("route serves the page, its styles and script to GET and HEAD, and nothing else", () => {
  assert.deepEqual(routed("GET / HTTP/1.1\nHost: h\n"), { kind: "page", head: false });
  assert.deepEqual(routed("HEAD /?x=1 HTTP/1.1\nHost: h\n"), { kind: "page", head: true });
  assert.deepEqual(routed("GET /app.css HTTP/1.1\nHost: h\n"), { kind: "css", head: false });
  assert.deepEqual(routed("GET /app.js HTTP/1.1\nHost: h\n"), { kind: "script", head: false });
  assert.deepEqual(routed("GET /app.js HTTP/1.0\n"), { kind: "script", head: false });
  const missing = routed("GET /etc/passwd HTTP/1.1\nHost: h\n");
  assert.deepEqual(missing, {
    kind: "error",
    status: 404,
    reason: 'Nothing is at "/etc/passwd"; the chat page is at "/".',
  });
  const post = routed("POST / HTTP/1.1\nHost: h\n");
  assert.equal(post.kind === "error" && post.status, 405);
  assert.deepEqual(post.kind === "error" && post.headers, { Allow: "GET, HEAD" });
  const noHost = routed("GET / HTTP/1.1\n");
  assert.equal(
    noHost.kind === "error" && noHost.reason,
    "The request has no Host header; HTTP/1.1 requires one.",
  );
  const twoHosts = routed("GET / HTTP/1.1\nHost: a\nHost: b\n");
  assert.equal(twoHosts.kind === "error" && twoHosts.status, 400);
  const absolute = routed("GET http://h/ HTTP/1.1\nHost: h\n");
  assert.equal(absolute.kind === "error" && absolute.status, 400);
});

Deno.test("route upgrades /ws with the WebSocket headers, and says which is missing", () => {
  assert.deepEqual(routed(WS), { kind: "upgrade", key: "dGhlIHNhbXBsZSBub25jZQ==" });
  const cases: [string, number, RegExp][] = [
    [WS.replace("Upgrade: websocket\n", ""), 426, /takes WebSocket connections only/],
    [
      WS.replace("keep-alive, Upgrade", "keep-alive"),
      400,
      /Connection header does not say "Upgrade"/,
    ],
    [
      WS.replace("Version: 13", "Version: 8"),
      426,
      /version "8" is not supported; use version 13\.$/,
    ],
    [
      WS.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
      400,
      /Sec-WebSocket-Key "short" is not the base64 of 16 bytes/,
    ],
    [WS.replace("GET", "POST"), 405, /"POST" is not allowed here; use GET\.$/],
    [
      WS + "Origin: http://evil.lan:8080\n",
      403,
      /^WebSocket connections from the page of "http:\/\/evil\.lan:8080" are refused/,
    ],
  ];
  for (const [text, status, reason] of cases) {
    const r = routed(text);
    assert.equal(r.kind, "error", text);
    if (r.kind !== "error") continue;
    assert.equal(r.status, status, text);
    assert.match(r.reason, reason);
  }
  assert.equal(routed(WS + "Origin: http://chat.lan:8080\n").kind, "upgrade");
});

Deno.test("route refuses a Host this server does not answer to with 403, on every path", () => {
  const sentence = 'This server does not answer to the name "evil.example"; if that is its name, ' +
    "start it with --web-name evil.example.";
  for (const path of ["/", "/app.js", "/app.css", "/nope"]) {
    for (const host of ["evil.example", "EVIL.example.:8080"]) {
      assert.deepEqual(routed(`GET ${path} HTTP/1.1\nHost: ${host}\n`), {
        kind: "error",
        status: 403,
        reason: sentence,
        refusedName: "evil.example",
      });
    }
  }
  const ws = routed(
    WS.replace("chat.lan:8080", "evil.example:8080") + "Origin: http://evil.example:8080\n",
  );
  assert.deepEqual(ws, refusedHost("evil.example"), "the Origin matches the Host: still refused");
  assert.deepEqual(routed(WS.replace("chat.lan", "evil.example")), refusedHost("evil.example"));
});

Deno.test("route answers IP literals, localhost and its names, and HTTP/1.0 without Host", () => {
  for (
    const host of [
      "127.0.0.1:8080",
      "[::1]:8080",
      "192.168.1.10",
      "localhost",
      "a.localhost:80",
      "H",
      "chat.lan.",
    ]
  ) {
    assert.deepEqual(
      routed(`GET / HTTP/1.1\nHost: ${host}\n`),
      { kind: "page", head: false },
      host,
    );
  }
  assert.deepEqual(routed("GET / HTTP/1.0\n"), { kind: "page", head: false });
  assert.equal(routed(WS.replace("chat.lan:8080", "[::1]:8080")).kind, "upgrade");
  const any = route(head("GET / HTTP/1.1\nHost: evil.example\n"), webNames(["*"]));
  assert.deepEqual(any, { kind: "page", head: false }, '--web-name "*" answers any name');
});

Deno.test("route answers a Host that is not a host name with 400", () => {
  for (const host of ["a b", "u@h", "h/x", "h:99999", "%68", "h:port"]) {
    const r = routed(`GET / HTTP/1.1\nHost: ${host}\n`);
    assert.equal(r.kind === "error" && r.status, 400, host);
    assert.match(
      r.kind === "error" ? r.reason : "",
      /^The Host ".*" is not a host name with an optional port\.$/,
    );
  }
  const empty = routed("GET / HTTP/1.1\nHost: \n");
  assert.equal(empty.kind === "error" && empty.status, 400, "an empty Host");
});

Deno.test("sameOrigin compares the page's host and port with Host, default ports filled in", () => {
  assert.ok(sameOrigin("http://chat.lan:8080", "chat.lan:8080"));
  assert.ok(sameOrigin("http://CHAT.lan:8080", "chat.LAN:8080"));
  assert.ok(sameOrigin("https://chat.lan", "chat.lan:443"));
  assert.ok(sameOrigin("http://[::1]:8080", "[::1]:8080"));
  assert.ok(!sameOrigin("http://chat.lan:8081", "chat.lan:8080"));
  assert.ok(!sameOrigin("http://chat.lan", "chat.lan:443"));
  assert.ok(!sameOrigin("null", "chat.lan:8080"));
  assert.ok(!sameOrigin("file://", "chat.lan:8080"));
  assert.ok(!sameOrigin("http://chat.lan:8080", ""));
  assert.ok(!sameOrigin("http://chat.lan:8080", "chat.lan:8080/x"));
  assert.ok(!sameOrigin("http://chat.lan:8080", "evil@chat.lan:8080"));
});

Deno.test("hasToken and isWebSocketKey read the WebSocket headers", () => {
  assert.ok(hasToken("keep-alive, Upgrade", "upgrade"));
  assert.ok(!hasToken("upgraded", "upgrade"));
  assert.ok(!hasToken(undefined, "upgrade"));
  assert.ok(isWebSocketKey(btoa(String.fromCharCode(...new Uint8Array(16).fill(255)))));
  assert.ok(!isWebSocketKey(btoa("fifteen bytes..")));
  assert.ok(!isWebSocketKey(btoa("seventeen bytes..")));
});

Deno.test("response has Connection: close, nosniff and the CSP; HEAD leaves the body out", () => {
  const text = new TextDecoder().decode(response(200, "text/css", new TextEncoder().encode("a{}")));
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nContent-Length: 3\r\n/);
  assert.match(text, /\r\nConnection: close\r\n/);
  assert.match(text, /\r\nX-Content-Type-Options: nosniff\r\n/);
  assert.ok(text.includes(`\r\nContent-Security-Policy: ${CONTENT_SECURITY_POLICY}\r\n`));
  assert.ok(text.endsWith("\r\n\r\na{}"));
  const bare = new TextDecoder().decode(
    response(200, "text/css", new TextEncoder().encode("a{}"), { omitBody: true }),
  );
  assert.match(bare, /\r\nContent-Length: 3\r\n/, "HEAD: the length of the body left out");
  assert.ok(bare.endsWith("\r\n\r\n"));
  const e = new TextDecoder().decode(
    errorResponse({
      kind: "error",
      status: 426,
      reason: "Use 13.",
      headers: { "Sec-WebSocket-Version": "13" },
    }),
  );
  assert.match(e, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(e, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.ok(e.endsWith("\r\n\r\nUse 13.\n"));
  const headOf = new TextDecoder().decode(
    errorResponse({ kind: "error", status: 404, reason: "None." }, true),
  );
  assert.match(headOf, /\r\nContent-Length: 6\r\n/, "HEAD of an error: its length");
  assert.ok(headOf.endsWith("\r\n\r\n"), "HEAD of an error: no body");
  assert.equal(
    new TextDecoder().decode(upgradeResponse("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
  );
});

Deno.test("the web-listening line names the address and the URL to open; a wildcard host opens localhost", () => {
  const line = (hostname: string, port: number, tls = false) =>
    formatLogEvent({ event: "web-listening", hostname, port, url: webUrl(hostname, port, tls) });
  assert.equal(
    line("127.0.0.1", 8080),
    "Web client listening on 127.0.0.1:8080 (open http://127.0.0.1:8080/)",
  );
  assert.equal(
    line("::1", 8443, true),
    "Web client listening on [::1]:8443 (open https://[::1]:8443/)",
  );
  for (const wildcard of ["::", "0.0.0.0"]) {
    assert.equal(
      line(wildcard, 8080),
      `Web client listening on ${
        wildcard === "::" ? "[::]" : wildcard
      }:8080 (open http://localhost:8080/; ` +
        "from other machines use this machine's address)",
    );
  }
});
