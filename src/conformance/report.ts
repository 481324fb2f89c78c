/**
 * How a conformance {@link Report} is shown: one line per case, the failures with their rule
 * and escaped bytes, and the score; or as JSON (a stable shape for graders) or JUnit XML (for
 * CI). Pure: no I/O.
 *
 * @module
 */
import type { CaseReport, Report } from "./case.ts";

const utf8 = new TextEncoder();

/**
 * Shows bytes so that every one of them is visible: `\n`, `\r`, `\t` and `\\` escaped, other
 * control bytes and bytes that are not valid UTF-8 as `\xNN`; printable text (UTF-8 included)
 * as it is.
 *
 * @example
 * ```ts ignore
 * import { escapeBytes } from "./report.ts";
 * console.log(escapeBytes("SENT bob\n\n")); // SENT bob\n\n
 * ```
 */
export function escapeBytes(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? utf8.encode(bytes) : bytes;
  let out = "";
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else {
      const n = utf8Length(b, i);
      if (n > 1) {
        const ch = new TextDecoder().decode(b.subarray(i, i + n));
        out += ch;
        i += n;
        continue;
      }
      out += `\\x${c.toString(16).padStart(2, "0")}`;
    }
    i++;
  }
  return out;
}

/** Length of the valid multi-byte UTF-8 sequence at `b[i]`, or 1 if there is none. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const n = c >= 0xc2 && c <= 0xdf
    ? 2
    : c >= 0xe0 && c <= 0xef
    ? 3
    : c >= 0xf0 && c <= 0xf4
    ? 4
    : 1;
  if (n === 1 || i + n > b.length) return 1;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 1;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(i, i + n));
    return n;
  } catch {
    return 1;
  }
}

/** Where each rule's text is in PROTOCOL.md, as a reader finds it. */
function section(rule: string): string {
  return `PROTOCOL.md, section "${rule}"`;
}

/** One line for case number `index` (1-based): `pass`, `FAIL` or `skip`, its id and title. */
export function formatCaseLine(r: CaseReport, index: number): string {
  const mark = r.result === "pass" ? "pass" : r.result === "fail" ? "FAIL" : "skip";
  const line = `${String(index).padStart(3)}. ${mark}  ${r.id}: ${r.title}`;
  return r.result === "skip" ? `${line} (${r.detail})` : line;
}

/** The score line: `N/M passed, K skipped`. */
export function formatScore(report: Report): string {
  return `${report.passed}/${report.cases.length} passed, ${report.skipped} skipped`;
}

/** The details of the failures: the rule, what was sent, expected and got. */
export function formatFailures(report: Report): string {
  const blocks: string[] = [];
  report.cases.forEach((r, k) => {
    if (r.result !== "fail") return;
    const lines = [`${k + 1}. ${r.id}: ${r.title}`, `   rule:     ${section(r.rule)}`];
    lines.push(`   problem:  ${r.detail}`);
    if (r.sent !== undefined) lines.push(`   sent:     ${r.sent}`);
    if (r.expected !== undefined) lines.push(`   expected: ${r.expected}`);
    if (r.got !== undefined) lines.push(`   got:      ${r.got}`);
    blocks.push(lines.join("\n"));
  });
  return blocks.length === 0 ? "" : `Failures:\n\n${blocks.join("\n\n")}`;
}

/**
 * The whole report as text: a line per case, then each failure with its rule (and PROTOCOL.md
 * section), what was sent, what was expected and what came back, then the score.
 */
export function formatReport(report: Report): string {
  const lines = [`Conformance of ${report.target}:`, ""];
  report.cases.forEach((r, k) => lines.push(formatCaseLine(r, k + 1)));
  const failures = formatFailures(report);
  if (failures !== "") lines.push("", failures);
  lines.push("", formatScore(report));
  return lines.join("\n");
}

/**
 * The report as JSON, in the documented stable shape: `target`; `cases`, each with `id`,
 * `title`, `rule`, `result` and `detail` (and `sent`, `expected`, `got` when a failure has
 * them); and the counts `passed`, `failed`, `skipped`.
 */
export function toJson(report: Report): string {
  return JSON.stringify(
    {
      target: report.target,
      cases: report.cases.map((r) => ({
        id: r.id,
        title: r.title,
        rule: r.rule,
        result: r.result,
        detail: r.detail,
        ...(r.sent !== undefined ? { sent: r.sent } : {}),
        ...(r.expected !== undefined ? { expected: r.expected } : {}),
        ...(r.got !== undefined ? { got: r.got } : {}),
      })),
      passed: report.passed,
      failed: report.failed,
      skipped: report.skipped,
    },
    null,
    2,
  );
}

/** Text escaped for XML attributes and content; control characters XML forbids dropped. */
function xml(text: string): string {
  return text
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** The report as JUnit XML: one testsuite, one testcase per case (failures and skips marked). */
export function toJunit(report: Report): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = report.cases.reduce((n, r) => n + r.ms, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="chat conformance" tests="${report.cases.length}" failures="${report.failed}" skipped="${report.skipped}" time="${
      seconds(total)
    }">`,
    `  <testsuite name="${
      xml(report.target)
    }" tests="${report.cases.length}" failures="${report.failed}" skipped="${report.skipped}" errors="0" time="${
      seconds(total)
    }">`,
  ];
  for (const r of report.cases) {
    const open = `    <testcase classname="${xml(r.rule)}" name="${
      xml(`${r.id}: ${r.title}`)
    }" time="${seconds(r.ms)}"`;
    if (r.result === "pass") {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (r.result === "skip") {
      lines.push(`      <skipped message="${xml(r.detail)}"/>`);
    } else {
      const body = [
        `rule: ${section(r.rule)}`,
        ...(r.sent !== undefined ? [`sent: ${r.sent}`] : []),
        ...(r.expected !== undefined ? [`expected: ${r.expected}`] : []),
        ...(r.got !== undefined ? [`got: ${r.got}`] : []),
      ].join("\n");
      lines.push(`      <failure message="${xml(r.detail)}">${xml(body)}</failure>`);
    }
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
