/**
 * The small scanners the decoder runs on each line. Each has a fast path for ASCII (every
 * canonical message) that needs no regular expression and no intermediate array.
 *
 * @module
 */

const CR = 13;
const SPACE = 32;
const TAB = 9;

const utf8 = new TextDecoder();

/** Decodes `bytes[start, end)` as UTF-8, with a fast path for ASCII. */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && end - start <= 256) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(bytes.subarray(start, end));
}

/** Index just past the last byte of `bytes[start, end)` that is not CR, space or tab. */
export function trimEnd(bytes: Uint8Array, start: number, end: number): number {
  while (end > start) {
    const b = bytes[end - 1];
    if (b !== CR && b !== SPACE && b !== TAB) break;
    end--;
  }
  return end;
}

/** Splits `text` at its first run of spaces: `[head, rest]`, both trimmed. */
export function splitFirst(text: string): [string, string] {
  // Fast path for ASCII text (every canonical message): no regular expression, no match array.
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  let cut = start;
  for (; cut < end; cut++) {
    const c = text.charCodeAt(cut);
    if (c >= 0x80) return splitFirstUnicode(text);
    if (isAsciiSpace(c)) break;
  }
  let rest = cut;
  while (rest < end && isAsciiSpace(text.charCodeAt(rest))) rest++;
  for (let k = rest; k < end; k++) {
    if (text.charCodeAt(k) >= 0x80) return splitFirstUnicode(text);
  }
  return [text.slice(start, cut), text.slice(rest, end)];
}

/** {@link splitFirst} for text with non-ASCII characters, where `\s` includes Unicode spaces. */
function splitFirstUnicode(text: string): [string, string] {
  const m = /^(\S*)\s*(.*)$/s.exec(text.trim());
  return m ? [m[1]!, m[2]!.trim()] : ["", ""];
}

/** True for the ASCII characters that `\s` matches: space, tab, LF, VT, FF, CR. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * The verb spelled by `bytes[start, end)` if it is one whose argument is a plain name (`SEND`,
 * `SENT`, `FORWARD`, `RECEIVED`, `UNREGISTER`, `UNREGISTERED`), else null. Byte by byte: no string
 * is made for the common messages.
 */
export function nameVerbAt(
  bytes: Uint8Array,
  start: number,
  end: number,
): "SEND" | "SENT" | "FORWARD" | "RECEIVED" | "UNREGISTER" | "UNREGISTERED" | null {
  switch (end - start) {
    case 4:
      if (!bytesAre(bytes, start, "SEN")) return null;
      return bytes[start + 3] === 68 /* D */
        ? "SEND"
        : bytes[start + 3] === 84 /* T */
        ? "SENT"
        : null;
    case 7:
      return bytesAre(bytes, start, "FORWARD") ? "FORWARD" : null;
    case 8:
      return bytesAre(bytes, start, "RECEIVED") ? "RECEIVED" : null;
    case 10:
      return bytesAre(bytes, start, "UNREGISTER") ? "UNREGISTER" : null;
    case 12:
      return bytesAre(bytes, start, "UNREGISTERED") ? "UNREGISTERED" : null;
  }
  return null;
}

/** True if `bytes` holds the ASCII `text` from `start` on. */
export function bytesAre(bytes: Uint8Array, start: number, text: string): boolean {
  if (start + text.length > bytes.length) return false;
  for (let k = 0; k < text.length; k++) {
    if (bytes[start + k] !== text.charCodeAt(k)) return false;
  }
  return true;
}

/** Index of the first byte of `bytes` from `start` on that is not an ASCII letter or digit. */
export function skipAlnum(bytes: Uint8Array, start: number): number {
  let i = start;
  for (; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) break;
  }
  return i;
}
