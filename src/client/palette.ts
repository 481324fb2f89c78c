/**
 * Colours on the terminal: each name gets its own stable colour (a hash of the name picks one
 * from a palette), the user's own name a distinct one; marks and notices their own. With
 * colour off, every function returns the text unchanged. Pure.
 *
 * @module
 */

const ESC = "\x1b[";

/**
 * The colours names are drawn from (SGR codes): green, yellow, blue, magenta, cyan and their
 * bright forms. Red is left out (errors are red); bold default is the user's own.
 */
export const NAME_PALETTE: readonly string[] = [
  "32",
  "33",
  "34",
  "35",
  "36",
  "92",
  "93",
  "94",
  "95",
  "96",
];

/** The SGR code of the user's own name: bold, in the terminal's default colour. */
export const SELF_COLOR = "1";

/** `text` in SGR `code`, reset after it; unchanged when `color` is false. */
export function paint(color: boolean, code: string, text: string): string {
  return color ? `${ESC}${code}m${text}${ESC}0m` : text;
}

/** A stable hash of `name` (32-bit FNV-1a over its UTF-16 units). */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The SGR code for `name`: {@link SELF_COLOR} when it is `self`, else from the palette. */
export function nameCode(name: string, self: string): string {
  if (name === self) return SELF_COLOR;
  return NAME_PALETTE[nameHash(name) % NAME_PALETTE.length]!;
}

/** `name` in its colour (see {@link nameCode}); unchanged when `color` is false. */
export function colorName(color: boolean, name: string, self: string): string {
  return paint(color, nameCode(name, self), name);
}
