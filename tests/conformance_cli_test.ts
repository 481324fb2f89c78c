/**
 * End-to-end tests of `chat conformance server`: the real command against our server (every
 * case passes), against servers that break rules on purpose (the right cases fail, with their
 * rule and escaped bytes), against one that closes every connection, and its usage errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ChatServer, startServer } from "../src/server/server.ts";
import { conformanceMain } from "../src/commands/conformance.ts";
import { SERVER_CASES } from "../src/conformance/server_cases.ts";
import { main } from "../main.ts";
import { runChat } from "./spawn.ts";
import { withTempDir } from "./certs.ts";

const CASES = SERVER_CASES.length;
const EXTENSIONS = SERVER_CASES.filter((c) => c.extension === true).length;
/** Generous bound for one whole run on a busy machine; never an assertion on speed. */
const RUN_MS = 120_000;

/** Runs `body` with our server on a free loopback port, then stops it. */
async function withOurServer(body: (port: number) => Promise<void>): Promise<void> {
  const server: ChatServer = await startServer({ hostname: "127.0.0.1", port: 0 });
  try {
    await body(server.port);
  } finally {
    await server.close({ drain: false });
  }
}

/**
 * A loopback TCP proxy in front of `port` that rewrites what the server writes with
 * `rewrite` (chunk by chunk: our server writes each message in one call), and closes each
 * side when the other closes. Returns its port and a function that stops it.
 */
function startProxy(
  port: number,
  rewrite: (text: string) => string,
): { port: number; stop: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const close = (c: Deno.Conn) => {
    if (conns.delete(c)) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn, change: boolean) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buf);
        if (n === null) break;
        const chunk = buf.subarray(0, n);
        const out = change
          ? new TextEncoder().encode(rewrite(new TextDecoder().decode(chunk)))
          : chunk;
        let off = 0;
        while (off < out.length) off += await to.write(out.subarray(off));
      }
    } catch { /* either side closed */ }
    close(from);
    close(to);
  };
  const accepting = (async () => {
    for await (const client of listener) {
      conns.add(client);
      try {
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
        conns.add(upstream);
        tasks.push(pump(client, upstream, false), pump(upstream, client, true));
      } catch {
        close(client);
      }
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stop: async () => {
      listener.close();
      await accepting.catch(() => {});
      for (const c of [...conns]) close(c);
      await Promise.all(tasks);
    },
  };
}

/**
 * Checks that `xml` is well-formed enough for a JUnit reader: an XML declaration, tags that
 * nest and close, and attribute values without raw `<` or `&`.
 */
function assertWellFormedXml(xml: string): void {
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/);
  const stack: string[] = [];
  for (
    const m of xml.matchAll(
      /<(\/?)([A-Za-z]+)((?:\s+[a-z]+="[^"<&]*(?:&[a-z]+;[^"<&]*)*")*)\s*(\/?)>/g,
    )
  ) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the open tag`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
  const text = xml.replace(/<[^>]*>/g, "");
  assert.doesNotMatch(text.replace(/&(amp|lt|gt|quot|apos);/g, ""), /[<&]/);
}

Deno.test("chat conformance server passes every case against our server and exits 0", async () => {
  await withOurServer(async (port) => {
    const r = await runChat(["conformance", "server", `127.0.0.1:${port}`, "--extensions"], {
      timeoutMs: RUN_MS,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}1\. pass {2}register-torecv-first: /m);
    assert.doesNotMatch(r.stdout, /FAIL|skip /);
    assert.match(r.stdout, new RegExp(`^${CASES}/${CASES} passed, 0 skipped$`, "m"));
  });
});

Deno.test("chat conformance server --json prints the documented shape, case lines on stderr", async () => {
  await withOurServer(async (port) => {
    const r = await runChat(["conformance", "server", `127.0.0.1:${port}`, "--json"], {
      timeoutMs: RUN_MS,
    });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(report), ["target", "cases", "passed", "failed", "skipped"]);
    assert.equal(report.target, `127.0.0.1:${port}`);
    assert.equal(report.cases.length, CASES);
    for (const c of report.cases) {
      assert.deepEqual(Object.keys(c), ["id", "title", "rule", "result", "detail"]);
      assert.ok(c.result === "pass" || (c.result === "skip" && /--extensions/.test(c.detail)));
    }
    assert.deepEqual([report.passed, report.failed, report.skipped], [
      CASES - EXTENSIONS,
      0,
      EXTENSIONS,
    ]);
    assert.match(r.stderr, /pass {2}register-torecv-first/);
  });
});

Deno.test("chat conformance server --junit - prints well-formed JUnit XML", async () => {
  await withOurServer(async (port) => {
    const r = await runChat(["conformance", "server", `127.0.0.1:${port}`, "--junit", "-"], {
      timeoutMs: RUN_MS,
    });
    assert.equal(r.code, 0, r.stderr);
    assertWellFormedXml(r.stdout);
    assert.equal(r.stdout.match(/<testcase /g)?.length, CASES);
    assert.equal(r.stdout.match(/<skipped /g)?.length, EXTENSIONS);
  });
});

Deno.test("conformanceMain --junit FILE writes the report, and says why when it cannot", async () => {
  await withOurServer(async (port) => {
    await withTempDir(async (dir) => {
      const lines: string[] = [];
      const [log, error] = [console.log, console.error];
      console.log = (...a: unknown[]) => lines.push(a.join(" "));
      console.error = (...a: unknown[]) => lines.push(a.join(" "));
      let code: number;
      try {
        code = await conformanceMain([
          "server",
          `127.0.0.1:${port}`,
          "--junit",
          `${dir}/report.xml`,
          "--timeout",
          "30s",
        ]);
      } finally {
        [console.log, console.error] = [log, error];
      }
      assert.equal(code, 0, lines.join("\n"));
      const xml = await Deno.readTextFile(`${dir}/report.xml`);
      assertWellFormedXml(xml);
      assert.equal(xml.match(/<testcase /g)?.length, CASES);
    });
    // A report that cannot be written (its folder does not exist) is one sentence, exit 1.
    const tmp = await Deno.makeTempDir();
    const r = await runChat(
      ["conformance", "server", `127.0.0.1:${port}`, "--junit", `${tmp}/no-such-folder/report.xml`],
      { timeoutMs: RUN_MS },
    ).finally(() => Deno.remove(tmp, { recursive: true }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Cannot write the JUnit report to ".*report\.xml": .*"--junit -"/m);
  });
});

Deno.test("chat conformance server fails the right cases, with rule and escaped bytes, against a server that breaks them", async () => {
  await withOurServer(async (port) => {
    // The SENT/SEND typo, and ERROR 100 where a name is taken.
    const proxy = startProxy(port, (text) =>
      text.replaceAll("SENT ", "SEND ")
        .replaceAll("ERROR 104 Username taken", "ERROR 100 Malformed username"));
    try {
      const r = await runChat(
        ["conformance", "server", `127.0.0.1:${proxy.port}`, "--extensions"],
        { timeoutMs: RUN_MS },
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const failed = [...r.stdout.matchAll(/^ *\d+\. FAIL {2}([a-z0-9-]+):/gm)].map((m) => m[1]);
      assert.deepEqual(failed, ["name-taken-104", "canonical-output"]);
      assert.match(r.stdout, /rule: {5}PROTOCOL\.md, section "Registration"/);
      assert.match(
        r.stdout,
        /expected: ERROR 104 Username taken\\n\\n\n +got: {6}ERROR 100 Malformed username\\n\\n/,
      );
      assert.match(r.stdout, /rule: {5}PROTOCOL\.md, section "What we accept and what we write"/);
      assert.match(r.stdout, /got: {6}SEND bob\w+\\n\\n/);
      assert.match(r.stdout, new RegExp(`^${CASES - 2}/${CASES} passed, 0 skipped$`, "m"));
    } finally {
      await proxy.stop();
    }
  });
});

Deno.test("chat conformance server reports a server that closes every connection as stopped answering, and finishes", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await runChat(["conformance", "server", `127.0.0.1:${port}`, "--timeout", "5s"], {
      timeoutMs: RUN_MS,
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /problem: {2}Stopped answering at case 1: /);
    const fails = r.stdout.match(/^ *\d+\. FAIL /gm)?.length;
    assert.equal(fails, CASES - EXTENSIONS);
    assert.match(r.stdout, new RegExp(`^0/${CASES} passed, ${EXTENSIONS} skipped$`, "m"));
  } finally {
    listener.close();
    await accepting.catch(() => {});
  }
});

Deno.test("chat conformance server reports a server that never answers case by case, within --timeout each", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await runChat(["conformance", "server", `127.0.0.1:${port}`, "--timeout", "200ms"], {
      timeoutMs: RUN_MS,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /expected: REGISTERED TOSEND \w+\\n\\n\n +got: {6}nothing within \d+ ms/,
    );
    assert.equal(r.stdout.match(/^ *\d+\. FAIL /gm)?.length, CASES - EXTENSIONS);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
  }
});

Deno.test("chat conformance server says in one sentence that a refused server cannot be reached (exit 1)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const r = await runChat(["conformance", "server", `127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    new RegExp(
      `^Cannot reach the server at "127\\.0\\.0\\.1:${port}": the connection was refused; .*\\.$`,
    ),
  );
  assert.equal(r.stderr.trim().split("\n").length, 1);
});

Deno.test("chat conformance answers usage errors with exit 2 and --help with exit 0", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  const cases: [string[], RegExp][] = [
    [[], /^Missing mode: use "server" or "client"\./],
    [["grade"], /^Unknown mode "grade": use "server" or "client"\./],
    [["server"], /^Missing server: give HOST or HOST:PORT\./],
    [["server", "a", "b"], /^Unexpected argument "b"\./],
    [["server", "localhost:99999"], /^Invalid port in "localhost:99999": use a number/],
    [["server", "bad host"], /^Invalid server "bad host": give a host name/],
    [["server", "localhost", "--timeout", "soon"], /^Invalid --timeout "soon"/],
    [["server", "localhost", "--json", "--junit", "-"], /^Use --json or "--junit -", not both/],
    [["server", "localhost", "--loud"], /^Unknown option "--loud"\./],
  ];
  try {
    for (const [args] of cases) {
      assert.equal(await main(["conformance", ...args]), 2, args.join(" "));
    }
  } finally {
    console.error = original;
  }
  for (const [k, [, pattern]] of cases.entries()) {
    assert.match(errors[k] ?? "", pattern);
    assert.match(errors[k] ?? "", /\nUsage: chat conformance server HOST\[:PORT\]/);
  }
  const modes = await runChat(["conformance", "--help"]);
  assert.equal(modes.code, 0);
  assert.match(modes.stdout, /^ {2}client {5}Check a client/m);
  const client = await runChat(["conformance", "client", "--help"]);
  assert.equal(client.code, 0);
  assert.match(client.stdout, /^Usage: chat conformance client /);
  const help = await runChat(["conformance", "server", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: chat conformance server HOST\[:PORT\]/);
  assert.equal(help.stderr, "");
  const bad = await runChat(["conformance", "server"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^Missing server/);
});
