import assert from "node:assert/strict";
import { type Case, CaseFailure, CaseSkip, EXTENSION_SKIP, runCases, TargetGone } from "./case.ts";
import { escapeBytes, formatCaseLine, formatReport, toJson, toJunit } from "./report.ts";

const base = { title: "does a thing", rule: "Registration" };

const cases: Case<string>[] = [
  { ...base, id: "ok", run: () => Promise.resolve() },
  {
    ...base,
    id: "bad",
    run: () => {
      throw new CaseFailure("Expected SENT.", {
        sent: "SEND b\\n",
        expected: "SENT b\\n\\n",
        got: "x",
      });
    },
  },
  { ...base, id: "ext", extension: true, run: () => Promise.resolve() },
  { ...base, id: "nope", run: () => Promise.reject(new CaseSkip("the server lacks it")) },
  { ...base, id: "gone", run: () => Promise.reject(new TargetGone("it closed")) },
  {
    ...base,
    id: "slow",
    run: (_t, signal) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
  },
];

Deno.test("runCases reports pass, fail, skip, extension skips, gone targets and timeouts", async () => {
  const seen: string[] = [];
  const report = await runCases("t", "target", cases, {
    timeoutMs: 50,
    extensions: false,
    onCase: (r) => seen.push(r.id),
  });
  assert.deepEqual(seen, cases.map((c) => c.id));
  assert.deepEqual(report.cases.map((r) => r.result), [
    "pass",
    "fail",
    "skip",
    "skip",
    "fail",
    "fail",
  ]);
  assert.equal(report.cases[1]?.got, "x");
  assert.equal(report.cases[2]?.detail, EXTENSION_SKIP);
  assert.match(report.cases[4]?.detail ?? "", /^Stopped answering at case 5: it closed/);
  assert.match(report.cases[5]?.detail ?? "", /within 50 ms/);
  assert.deepEqual([report.passed, report.failed, report.skipped], [1, 3, 2]);
});

Deno.test("escapeBytes shows line ends, backslashes and other bytes escaped, UTF-8 as text", () => {
  assert.equal(escapeBytes("SENT bob\n\n"), "SENT bob\\n\\n");
  assert.equal(escapeBytes("a\r\n\t\\é"), "a\\r\\n\\t\\\\é");
  assert.equal(escapeBytes(new Uint8Array([0x00, 0xff, 0x41, 0xc3])), "\\x00\\xffA\\xc3");
});

Deno.test("formatReport, toJson and toJunit show every case and the failures' evidence", async () => {
  const report = await runCases("t", "host:1", cases, { timeoutMs: 50, extensions: true });
  assert.match(formatCaseLine(report.cases[1]!, 2), /FAIL {2}bad: does a thing/);
  const text = formatReport(report);
  assert.match(text, /rule: {5}PROTOCOL.md, section "Registration"/);
  assert.match(text, /expected: SENT b\\n\\n/);
  assert.match(text, /2\/6 passed, 1 skipped$/);
  const json = JSON.parse(toJson(report));
  assert.deepEqual(Object.keys(json), ["target", "cases", "passed", "failed", "skipped"]);
  assert.deepEqual(Object.keys(json.cases[0]), ["id", "title", "rule", "result", "detail"]);
  const junit = toJunit(report);
  assert.match(junit, /^<\?xml/);
  assert.equal(junit.match(/<testcase /g)?.length, 6);
  assert.equal(junit.match(/<failure /g)?.length, 3);
});
