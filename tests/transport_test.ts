/**
 * Tests of the byte transport on both back ends: end() sends what is queued, then closes, a peer
 * that never reads cannot hold an ended connection open past the grace time, and `::` serves IPv4
 * and IPv6 alike.
 *
 * @module
 */
import assert from "node:assert/strict";
import { hasIPv6 } from "./harness.ts";
import {
  type Conn,
  EVERY_ADDRESS,
  isNoIPv6,
  listen,
  type Listener,
  listenEverywhere,
  type TransportKind,
} from "../src/net/transport.ts";

const KINDS: TransportKind[] = ["deno", "node"];

/** Starts a listener whose every connection gets `payload` and then end(). */
async function serveAndEnd(kind: TransportKind, payload: Uint8Array, endGraceMs: number) {
  const closed = Promise.withResolvers<number>();
  const opened = performance.now();
  const listener = await listen(
    { hostname: "127.0.0.1", port: 0, transport: kind, endGraceMs },
    (conn: Conn) => {
      conn.write(payload);
      conn.end();
      return { data() {}, closed: () => closed.resolve(performance.now() - opened) };
    },
  );
  return { listener, closed: closed.promise };
}

for (const kind of KINDS) {
  Deno.test(`Conn.end (${kind} transport) delivers everything queued before closing`, async () => {
    const payload = new Uint8Array(1024 * 1024).fill(7);
    const { listener, closed } = await serveAndEnd(kind, payload, 10_000);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    let got = 0;
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await client.read(buf);
      if (n === null) break;
      got += n;
    }
    client.close();
    await closed;
    await listener.close();
    assert.equal(got, payload.length);
  });

  Deno.test(`Conn.end (${kind} transport) closes after the grace time if the peer never reads`, async () => {
    // More than the loopback socket buffers hold, so that the end cannot complete.
    const payload = new Uint8Array(32 * 1024 * 1024);
    const { listener, closed } = await serveAndEnd(kind, payload, 300);
    const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      closed.then(() => "closed"),
      new Promise<string>((r) => timer = setTimeout(() => r("still open after 10 s"), 10_000)),
    ]);
    clearTimeout(timer);
    client.close();
    await listener.close();
    assert.equal(outcome, "closed");
  });
}

const ipv6 = hasIPv6();

/** A listener that records being closed, for listenEverywhere's bind. */
function fakeListener(hostname: string, port: number, closed: string[]): Listener {
  return { hostname, port, close: () => Promise.resolve(void closed.push(hostname)) };
}

Deno.test("listenEverywhere listens on :: alone where :: is dual-stack (0.0.0.0 then in use)", async () => {
  const tried: string[] = [];
  const closed: string[] = [];
  const listener = await listenEverywhere((hostname, port) => {
    tried.push(`${hostname} ${port}`);
    if (hostname === "0.0.0.0") throw new Deno.errors.AddrInUse("Address already in use");
    return Promise.resolve(fakeListener(hostname, 4242, closed));
  }, 0);
  assert.deepEqual(tried, [":: 0", "0.0.0.0 4242"]);
  assert.equal(listener.hostname, "::");
  await listener.close();
  assert.deepEqual(closed, ["::"]);
});

Deno.test("listenEverywhere also listens on 0.0.0.0 where :: serves IPv6 only", async () => {
  const closed: string[] = [];
  const listener = await listenEverywhere(
    (hostname, port) => Promise.resolve(fakeListener(hostname, port || 4242, closed)),
    0,
  );
  assert.deepEqual([listener.hostname, listener.port], ["::", 4242]);
  await listener.close();
  assert.deepEqual(closed.sort(), ["0.0.0.0", "::"]);
});

Deno.test("listenEverywhere falls back to 0.0.0.0 on a machine without IPv6", async () => {
  const closed: string[] = [];
  const listener = await listenEverywhere((hostname, port) => {
    if (hostname === "::") {
      throw new Error("Address family not supported by protocol (os error 97)");
    }
    return Promise.resolve(fakeListener(hostname, port || 4242, closed));
  }, 5500);
  assert.deepEqual([listener.hostname, listener.port], ["0.0.0.0", 5500]);
});

Deno.test("listenEverywhere passes on errors that are not a missing IPv6 (a port in use)", async () => {
  await assert.rejects(
    () =>
      listenEverywhere((hostname) => {
        if (hostname === "::") throw new Deno.errors.AddrInUse("Address already in use");
        throw new Error(`${hostname} must not be tried`);
      }, 5500),
    Deno.errors.AddrInUse,
  );
});

Deno.test("isNoIPv6 tells a missing IPv6 from other listen errors", () => {
  for (
    const yes of ["Error: listen EAFNOSUPPORT: address family not supported ::", "listen EINVAL"]
  ) {
    assert.equal(isNoIPv6(new Error(yes)), true, yes);
  }
  assert.equal(isNoIPv6(new Deno.errors.AddrNotAvailable("x")), true);
  assert.equal(isNoIPv6(new Deno.errors.AddrInUse("x")), false);
  assert.equal(isNoIPv6(new Deno.errors.PermissionDenied("x")), false);
  assert.equal(isNoIPv6(new Error("listen EADDRINUSE: address already in use :::5500")), false);
});

for (const kind of KINDS) {
  const name = `listen on :: (${kind} transport) serves 127.0.0.1` +
    (ipv6 ? " and ::1" : " (the ::1 half IGNORED: this machine has no IPv6)") +
    ", IPv4 peers unmapped";
  Deno.test(name, async () => {
    const peers: string[] = [];
    const listener = await listen(
      { hostname: EVERY_ADDRESS, port: 0, transport: kind },
      (conn: Conn) => {
        peers.push(conn.remoteHost);
        conn.close();
        return { data() {}, closed() {} };
      },
    );
    try {
      for (const hostname of ipv6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"]) {
        const client = await Deno.connect({ hostname, port: listener.port });
        assert.equal(await client.read(new Uint8Array(1)), null, "closed by the server");
        client.close();
      }
    } finally {
      await listener.close();
    }
    assert.deepEqual(peers, ipv6 ? ["127.0.0.1", "::1"] : ["127.0.0.1"]);
  });
}

/**
 * True if this process may make a network namespace of its own with a loopback interface
 * (`unshare -n` needs privileges; `ip` comes from iproute2).
 */
function canUnshareNet(): boolean {
  try {
    return new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", "ip link set lo up"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}
const unshare = Deno.build.os === "linux" && ipv6 && canUnshareNet();

Deno.test({
  name: "listen on :: serves IPv4 too where :: is IPv6-only (net.ipv6.bindv6only=1)" +
    (unshare ? "" : " (IGNORED: needs unshare -n and ip, with privileges, and IPv6)"),
  ignore: !unshare,
  fn: async () => {
    // In a network namespace of its own, where setting bindv6only touches nothing else.
    const transport = new URL("../src/net/transport.ts", import.meta.url).href;
    const script = `
      import { listen } from ${JSON.stringify(transport)};
      const result = [];
      for (const transport of ["deno", "node"]) {
        const l = await listen({ hostname: "::", port: 0, transport }, (c) => {
          c.close();
          return { data() {}, closed() {} };
        });
        for (const hostname of ["127.0.0.1", "::1"]) {
          try {
            (await Deno.connect({ hostname, port: l.port })).close();
            result.push(transport + " " + hostname + " ok");
          } catch (e) {
            result.push(transport + " " + hostname + " " + e.message);
          }
        }
        await l.close();
      }
      console.log(JSON.stringify(result));
    `;
    const setup = "ip link set lo up && echo 1 > /proc/sys/net/ipv6/bindv6only && " +
      'test "$(cat /proc/sys/net/ipv6/bindv6only)" = 1 && exec "$0" eval "$1"';
    const out = await new Deno.Command("unshare", {
      args: ["-n", "sh", "-c", setup, Deno.execPath(), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(text), [
      "deno 127.0.0.1 ok",
      "deno ::1 ok",
      "node 127.0.0.1 ok",
      "node ::1 ok",
    ]);
  },
});
