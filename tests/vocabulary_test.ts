/**
 * The vocabulary table against what derives from it and against PROTOCOL.md, so that neither the
 * code's copies nor the document can drift from the table.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  BODY_VERBS,
  CONTENT_LENGTH,
  ERROR_TEXT,
  ErrorCode,
  ERRORS,
  HEADERS,
  isVerb,
  VERBS,
} from "../src/protocol/mod.ts";

const protocolMd = await Deno.readTextFile(new URL("../PROTOCOL.md", import.meta.url));

/** The text under `heading` (a whole line such as `## Error codes`) up to the next heading as high. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start !== -1, `PROTOCOL.md has a "${heading}" heading`);
  const level = heading.indexOf(" ");
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return end === -1 ? rest : rest.slice(0, end);
}

/** The body rows of the first table in `text`, as trimmed cells without backticks. */
function tableRows(text: string): string[][] {
  const rows = text.split("\n").filter((line) => line.startsWith("|"));
  assert.ok(rows.length >= 2, `a table in:\n${text}`);
  return rows.slice(2).map((row) =>
    row.slice(1, -1).split("|").map((cell) => cell.trim().replaceAll("`", ""))
  );
}

/** The entries of `table` whose origin is `origin`, as `[key, spec]` pairs. */
function withOrigin<S extends { origin: string }>(
  table: Readonly<Record<string, S>>,
  origin: string,
): [string, S][] {
  return Object.entries(table).filter(([, spec]) => spec.origin === origin);
}

const registry = section(protocolMd, "## Extension registry");

Deno.test("ERRORS' extension codes are PROTOCOL.md's extension error codes, with their texts", () => {
  const documented = tableRows(section(registry, "### Extension error codes"))
    .map(([code, text]) => `${code} ${text}`);
  const inTable = withOrigin(ERRORS, "extension").map(([, e]) => `${e.code} ${e.text}`);
  assert.deepEqual(documented.toSorted(), inTable.toSorted());
});

Deno.test("VERBS' extension verbs are PROTOCOL.md's extension verbs, sent by the same end", () => {
  const documented = tableRows(section(registry, "### Extension verbs"))
    .map(([verb, sentBy]) => `${verb} ${sentBy}`);
  const inTable = withOrigin(VERBS, "extension").map(([verb, v]) => `${verb} ${v.sentBy}`);
  assert.deepEqual(documented.toSorted(), inTable.toSorted());
});

Deno.test("VERBS and HEADERS' negotiated entries are PROTOCOL.md's negotiated ones", () => {
  const documented = tableRows(section(registry, "### Negotiated verbs and headers"))
    .map(([name, kind]) => `${name} ${kind}`)
    .filter((row) => !row.startsWith("(none yet)"));
  const inTable = [
    ...withOrigin(VERBS, "negotiated").map(([verb]) => `${verb} verb`),
    ...withOrigin(HEADERS, "negotiated").map(([, h]) => `${h.name} header`),
  ];
  assert.deepEqual(documented.toSorted(), inTable.toSorted());
});

Deno.test("ERRORS are PROTOCOL.md's error codes table, extensions marked as such", () => {
  const documented = tableRows(section(protocolMd, "## Error codes")).map(([code, text, meaning]) =>
    `${code} ${text}${meaning?.startsWith("**Extension**") ? " (extension)" : ""}`
  );
  const inTable = Object.values(ERRORS).map((e) =>
    `${e.code} ${e.text}${e.origin === "base" ? "" : " (extension)"}`
  );
  assert.deepEqual(documented.toSorted(), inTable.toSorted());
});

Deno.test("VERBS are the verbs of PROTOCOL.md's message examples", () => {
  const documented = new Set(
    [...protocolMd.matchAll(/^(?:C→S|S→C) +([A-Z]+)\b/gm)].map((m) => m[1] ?? ""),
  );
  assert.deepEqual([...documented].toSorted(), Object.keys(VERBS).toSorted());
});

Deno.test("HEADERS' names are written in PROTOCOL.md as the encoder writes them", () => {
  for (const { name } of Object.values(HEADERS)) {
    // In a message example, as a header line after the first line.
    assert.ok(protocolMd.includes(`\\n${name}: `), `${name} in PROTOCOL.md's examples`);
  }
  assert.equal(CONTENT_LENGTH, "Content-length");
});

Deno.test("ErrorCode and ERROR_TEXT derive from ERRORS", () => {
  for (const [key, spec] of Object.entries(ERRORS)) {
    assert.equal(ErrorCode[key as keyof typeof ErrorCode], spec.code, key);
    assert.equal(ERROR_TEXT[spec.code], spec.text, key);
  }
  assert.equal(Object.keys(ERROR_TEXT).length, Object.keys(ERRORS).length);
  assert.deepEqual(Object.values(ErrorCode), [100, 101, 102, 103, 104, 105, 106]);
  assert.ok(Object.isFrozen(ErrorCode) && Object.isFrozen(ERROR_TEXT));
});

Deno.test("BODY_VERBS and isVerb derive from VERBS", () => {
  assert.deepEqual([...BODY_VERBS].toSorted(), ["FORWARD", "SEND"]);
  for (const verb of Object.keys(VERBS)) assert.ok(isVerb(verb), verb);
  for (const other of ["send", "HELLO", "", "toString", "__proto__"]) {
    assert.ok(!isVerb(other), other);
  }
});
