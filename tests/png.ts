/**
 * A small PNG decoder for checking screenshots in tests: 8-bit RGB and RGBA, not interlaced,
 * all five row filters, chunk CRCs checked, pixel data inflated with `node:zlib`. Anything
 * else (palettes, grey, 16 bits, Adam7) is refused with a sentence saying what it was.
 *
 * @module
 */
import { inflateSync } from "node:zlib";

/** A decoded image: `width * height` pixels, four bytes each (R, G, B, A), row by row. */
export interface Image {
  width: number;
  height: number;
  /** RGBA bytes; an RGB image gets alpha 255. */
  rgba: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 of `bytes` as PNG chunks carry it (over the chunk type and data). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: its four-letter type and its data. */
interface Chunk {
  type: string;
  data: Uint8Array;
}

function readChunks(png: Uint8Array): Chunk[] {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) {
    throw new Error("Not a PNG: the 8-byte PNG signature is missing.");
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    if (at + 12 > png.length) throw new Error(`Truncated PNG: a chunk header at byte ${at}.`);
    const length = view.getUint32(at);
    if (at + 12 + length > png.length) throw new Error(`Truncated PNG: a chunk at byte ${at}.`);
    const typed = png.subarray(at + 4, at + 8 + length);
    const type = String.fromCharCode(...typed.subarray(0, 4));
    if (crc32(typed) !== view.getUint32(at + 8 + length)) {
      throw new Error(`Corrupt PNG: the CRC of chunk "${type}" at byte ${at} does not match.`);
    }
    chunks.push({ type, data: typed.subarray(4) });
    at += 12 + length;
    if (type === "IEND") break;
  }
  return chunks;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the row filters of `raw` (each row: a filter byte, then `stride` bytes). */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[up + x]! : 0;
      const c = x >= bpp && y > 0 ? out[up + x - bpp]! : 0;
      const v = raw[src + x]!;
      switch (filter) {
        case 0:
          out[row + x] = v;
          break;
        case 1:
          out[row + x] = v + a;
          break;
        case 2:
          out[row + x] = v + b;
          break;
        case 3:
          out[row + x] = v + ((a + b) >> 1);
          break;
        case 4:
          out[row + x] = v + paeth(a, b, c);
          break;
        default:
          throw new Error(`Corrupt PNG: row ${y} has filter type ${filter} (0 to 4 exist).`);
      }
    }
  }
  return out;
}

/**
 * Decodes an 8-bit RGB or RGBA, non-interlaced PNG (a Chromium screenshot) into RGBA pixels;
 * throws a sentence saying what is wrong or unsupported otherwise.
 */
export function decodePng(png: Uint8Array): Image {
  const chunks = readChunks(png);
  const header = chunks[0];
  if (header?.type !== "IHDR" || header.data.length !== 13) {
    throw new Error("Corrupt PNG: the first chunk is not a 13-byte IHDR.");
  }
  const h = new DataView(header.data.buffer, header.data.byteOffset, 13);
  const width = h.getUint32(0), height = h.getUint32(4);
  const [depth, colour, , , interlace] = header.data.subarray(8);
  const channels = colour === 2 ? 3 : colour === 6 ? 4 : 0;
  if (depth !== 8 || channels === 0 || interlace !== 0) {
    throw new Error(
      `Unsupported PNG: bit depth ${depth}, colour type ${colour}, interlace ${interlace} ` +
        `(only 8-bit RGB (2) or RGBA (6), not interlaced, are decoded here).`,
    );
  }
  const idat = chunks.filter((c) => c.type === "IDAT").map((c) => c.data);
  if (idat.length === 0) throw new Error("Corrupt PNG: no IDAT chunk.");
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of idat) {
    joined.set(d, at);
    at += d.length;
  }
  const raw = new Uint8Array(inflateSync(joined));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) {
    throw new Error(
      `Corrupt PNG: ${raw.length} bytes of pixel data for ${width}x${height} ` +
        `(expected ${height * (stride + 1)}).`,
    );
  }
  const pixels = unfilter(raw, height, stride, channels);
  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < pixels.length; i += 3, j += 4) {
    rgba[j] = pixels[i]!;
    rgba[j + 1] = pixels[i + 1]!;
    rgba[j + 2] = pixels[i + 2]!;
    rgba[j + 3] = 255;
  }
  return { width, height, rgba };
}

/** The RGBA of the pixel at (`x`, `y`). */
export function pixel(image: Image, x: number, y: number): [number, number, number, number] {
  const i = (y * image.width + x) * 4;
  const p = image.rgba;
  return [p[i]!, p[i + 1]!, p[i + 2]!, p[i + 3]!];
}

/** A rectangle in image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * How many pixels inside `box` (clipped to the image) differ from `background` by more than
 * `tolerance` in any channel.
 */
export function pixelsDiffering(
  image: Image,
  box: Box,
  background: [number, number, number, number],
  tolerance = 24,
): number {
  const x0 = Math.max(0, Math.floor(box.x)), y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(image.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(image.height, Math.ceil(box.y + box.height));
  let count = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = pixel(image, x, y);
      if (p.some((v, i) => Math.abs(v - background[i]!) > tolerance)) count++;
    }
  }
  return count;
}

/** How many different colours the image has (a blank image has one). */
export function colourCount(image: Image): number {
  const seen = new Set<number>();
  const view = new DataView(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength);
  for (let i = 0; i < image.rgba.length; i += 4) seen.add(view.getUint32(i));
  return seen.size;
}
