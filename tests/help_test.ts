/**
 * Every `--help` of the `chat` command fits one terminal: no line over 80 columns, at most 23
 * lines (a 24-row screen, with the shell prompt under it), and it points to README.md for the
 * rest. Also `chat help COMMAND`, `chat COMMAND --version` and their errors, run as a process.
 *
 * @module
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { runChat } from "./spawn.ts";
import { SERVER_OPTIONS } from "../src/commands/server.ts";

const COLUMNS = 80;
const ROWS = 24;

/** The help screens, by the arguments that print them. */
const HELPS: string[][] = [
  ["--help"],
  ["help"],
  ["server", "--help"],
  ["help", "server"],
  ["client", "--help"],
  ["help", "client"],
  ["conformance", "--help"],
  ["help", "conformance"],
  ["conformance", "server", "--help"],
  ["conformance", "client", "--help"],
  ["identity", "--help"],
  ["help", "identity"],
];

for (const args of HELPS) {
  Deno.test(`chat ${args.join(" ")} fits ${COLUMNS} columns and one ${ROWS}-row screen`, async () => {
    const r = await runChat(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n");
    const wide = lines.filter((l) => [...l].length > COLUMNS);
    assert.deepEqual(wide, [], `lines over ${COLUMNS} columns`);
    assert.ok(lines.length < ROWS, `${lines.length} lines:\n${r.stdout}`);
    assert.match(r.stdout, /README\.md/, "points to the README for the rest");
  });
}

Deno.test("chat help COMMAND prints what chat COMMAND --help prints", async () => {
  for (const command of ["server", "client", "conformance", "identity"]) {
    const viaHelp = await runChat(["help", command]);
    const viaFlag = await runChat([command, "--help"]);
    assert.equal(viaHelp.code, 0, viaHelp.stderr);
    assert.equal(viaHelp.stdout, viaFlag.stdout, command);
  }
});

Deno.test("chat help with an unknown command is a usage error (exit 2)", async () => {
  const r = await runChat(["help", "nosuch"]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^Unknown command "nosuch": use "server", "client", "conformance" or "identity"\./,
  );
  assert.match(r.stderr, /\nUsage: chat /);
});

Deno.test("chat COMMAND --version and -V print the version (not after --)", async () => {
  for (const args of [["server", "--version"], ["client", "--version"], ["server", "-V"]]) {
    const r = await runChat(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout.trim(), `chat ${denoJson.version}`, args.join(" "));
  }
  // After "--", --version belongs to the client command being checked, not to chat.
  const r = await runChat(["conformance", "client", "--bogus", "--", "x", "--version"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option "--bogus"/);
});

Deno.test("chat server --help names every option chat server accepts", async () => {
  const r = await runChat(["server", "--help"]);
  const named = new Set(r.stdout.match(/--[a-z][a-z-]*/g));
  const accepted = Object.keys(SERVER_OPTIONS).map((o) => `--${o}`);
  assert.deepEqual(accepted.filter((o) => !named.has(o)), [], "accepted but not in the help");
  assert.deepEqual(
    [...named].filter((o) => !accepted.includes(o) && o !== "--version"),
    [],
    "in the help but not accepted",
  );
});
