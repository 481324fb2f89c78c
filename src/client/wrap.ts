/**
 * Fitting text to the terminal's width: how many columns a string takes (ANSI colour codes
 * take none, East Asian wide characters and most emoji two, combining marks none), and
 * wrapping with a hanging indent. Pure; no I/O.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** `text` without its ANSI colour codes. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Columns one code point takes on a terminal: 0, 1 or 2. */
export function charWidth(cp: number): number {
  if (cp === 0 || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f)) return 0;
  if (cp >= 0xfe00 && cp <= 0xfe0f) return 0; // variation selectors
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2;
  return 1;
}

/** Columns `text` takes on a terminal (colour codes excluded). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of stripAnsi(text)) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** A piece of text: an ANSI code (no width) or one character. */
function pieces(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  for (const m of text.matchAll(ANSI)) {
    out.push(...text.slice(at, m.index));
    out.push(m[0]);
    at = m.index + m[0].length;
  }
  out.push(...text.slice(at));
  return out;
}

function pieceWidth(piece: string): number {
  return piece.startsWith("\x1b") ? 0 : charWidth(piece.codePointAt(0)!);
}

/**
 * Wraps one line (no newline in it) to rows of at most `width` columns, breaking at spaces
 * where it can and inside a word that is longer than a row. Rows after the first start with
 * `indent` spaces (a hanging indent).
 */
function wrapLine(line: string, width: number, indent: number): string[] {
  const rows: string[] = [];
  const pad = " ".repeat(indent);
  let row = "";
  let used = 0;
  let breakAt = -1; // index in `row` just after its last space (past the indent)
  let usedAtBreak = 0;
  for (const p of pieces(line)) {
    const w = pieceWidth(p);
    if (w > 0 && used + w > width) {
      if (p === " ") {
        rows.push(row.trimEnd());
        [row, used, breakAt] = [pad, indent, -1];
        continue;
      }
      if (breakAt > 0) {
        const rest = row.slice(breakAt);
        rows.push(row.slice(0, breakAt).trimEnd());
        [row, used] = [pad + rest, indent + used - usedAtBreak];
      } else {
        rows.push(row);
        [row, used] = [pad, indent];
      }
      breakAt = -1;
    }
    row += p;
    used += w;
    if (p === " " && used > indent) [breakAt, usedAtBreak] = [row.length, used];
  }
  rows.push(row.trimEnd());
  return rows;
}

/**
 * Wraps `text` to rows of at most `width` columns (colour codes do not count). Every row
 * after the first, including the further lines of a text with newlines, starts with `indent`
 * spaces. Returns the rows.
 */
export function wrap(text: string, width: number, indent = 0): string[] {
  const w = Math.max(width, 10);
  const hang = indent > w - 10 ? 0 : indent;
  const rows: string[] = [];
  text.split("\n").forEach((line, i) => {
    const lead = i === 0 ? "" : " ".repeat(hang);
    const wrapped = wrapLine(lead + line, w, hang);
    rows.push(...wrapped);
  });
  return rows;
}
