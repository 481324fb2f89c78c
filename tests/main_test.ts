/**
 * Tests of `main.ts`, the table of commands: each command is loaded only when it runs, so
 * `chat server` never loads the client's line editor and `chat client` never loads the server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { COMMANDS, main } from "../main.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
}

/** The module graph of `path` as `deno info --json` reports it. */
async function moduleGraph(path: string): Promise<InfoModule[]> {
  const url = new URL(path, import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", url.href],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return (JSON.parse(new TextDecoder().decode(stdout)) as { modules: InfoModule[] }).modules;
}

Deno.test("main.ts imports no command module statically", async () => {
  const modules = await moduleGraph("../main.ts");
  const entry = modules.find((m) => m.specifier.endsWith("/main.ts"));
  assert.ok(entry, "main.ts is in its own graph");
  const eager = (entry.dependencies ?? [])
    .filter((d) => !d.isDynamic)
    .map((d) => d.code?.specifier ?? d.specifier);
  assert.deepEqual(
    eager.filter((s) =>
      /\/src\/(server|client|conformance)\/|commands\/(server|client|conformance)\.ts$/.test(s)
    ),
    [],
  );
});

Deno.test("chat server's module graph holds no line editor and no client code", async () => {
  const specifiers = (await moduleGraph("../src/commands/server.ts")).map((m) => m.specifier);
  assert.deepEqual(
    specifiers.filter((s) => s === "node:readline" || s.includes("/src/client/")),
    [],
  );
});

Deno.test("chat client's module graph holds no server code", async () => {
  const specifiers = (await moduleGraph("../src/commands/client.ts")).map((m) => m.specifier);
  assert.deepEqual(specifiers.filter((s) => s.includes("/src/server/")), []);
});

Deno.test("chat conformance's module graph holds no server code and no line editor", async () => {
  const specifiers = (await moduleGraph("../src/commands/conformance.ts")).map((m) => m.specifier);
  assert.deepEqual(
    specifiers.filter((s) => s === "node:readline" || /\/src\/(server|client)\//.test(s)),
    [],
  );
});

Deno.test("COMMANDS lists server, client, conformance and identity, each loading an entry point", async () => {
  assert.deepEqual(Object.keys(COMMANDS).sort(), ["client", "conformance", "identity", "server"]);
  for (const command of Object.values(COMMANDS)) {
    assert.equal(typeof await command.load(), "function");
  }
});

Deno.test("main answers an unknown command with a usage error (exit 2)", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.join(" "));
  try {
    assert.equal(await main(["serve"]), 2);
    // Names every object has are not commands either.
    assert.equal(await main(["toString"]), 2);
    assert.equal(await main(["constructor"]), 2);
  } finally {
    console.error = original;
  }
  assert.match(
    errors.join("\n"),
    /^Unknown command "serve": use "server", "client", "conformance" or "identity"\./,
  );
  assert.match(errors.join("\n"), /Unknown command "toString"/);
  assert.match(errors.join("\n"), /Unknown command "constructor"/);
});
