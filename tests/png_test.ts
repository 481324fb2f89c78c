import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { colourCount, crc32, decodePng, pixel, pixelsDiffering } from "./png.ts";

/** Builds one PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const typed = new Uint8Array(4 + data.length);
  typed.set(new TextEncoder().encode(type));
  typed.set(data, 4);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(typed, 4);
  view.setUint32(8 + data.length, crc32(typed));
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Encodes `pixels` (RGB or RGBA bytes, row by row) as a PNG whose row `y` uses filter
 * `filters[y % filters.length]`, written independently of the decoder (forward filters).
 */
function encodePng(
  width: number,
  height: number,
  channels: 3 | 4,
  pixels: Uint8Array,
  filters: number[],
): Uint8Array {
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = filters[y % filters.length]!;
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const at = (yy: number, xx: number) => yy < 0 || xx < 0 ? 0 : pixels[yy * stride + xx]!;
      const v = at(y, x), a = at(y, x - channels), b = at(y - 1, x), c = at(y - 1, x - channels);
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter]!;
      raw[y * (stride + 1) + 1 + x] = (v - predicted) & 0xff;
    }
  }
  const header = new Uint8Array(13);
  const h = new DataView(header.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  header.set([8, channels === 3 ? 2 : 6, 0, 0, 0], 8);
  const compressed = new Uint8Array(deflateSync(raw));
  // Split the pixel data over two IDAT chunks, as encoders may.
  const half = compressed.length >> 1;
  const parts = [
    new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", header),
    chunk("IDAT", compressed.subarray(0, half)),
    chunk("IDAT", compressed.subarray(half)),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Pseudo-random but fixed pixel bytes, so that every filter has carries and wraps to undo. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

Deno.test("crc32 matches the CRC of a PNG IEND chunk", () => {
  assert.deepEqual(crc32(new TextEncoder().encode("IEND")), 0xae426082);
});

for (const filter of [0, 1, 2, 3, 4]) {
  for (const channels of [3, 4] as const) {
    Deno.test(`decodePng undoes filter ${filter} on ${channels === 3 ? "RGB" : "RGBA"}`, () => {
      const width = 7, height = 5;
      const pixels = noise(width * height * channels, filter * 10 + channels);
      const image = decodePng(encodePng(width, height, channels, pixels, [filter]));
      assert.deepEqual([image.width, image.height], [width, height]);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * channels;
          const want = [...pixels.subarray(i, i + channels)];
          if (channels === 3) want.push(255);
          assert.deepEqual(pixel(image, x, y), want, `pixel (${x}, ${y})`);
        }
      }
    });
  }
}

Deno.test("decodePng decodes an image whose rows use all five filters in turn", () => {
  const width = 13, height = 11;
  const pixels = noise(width * height * 4, 99);
  const image = decodePng(encodePng(width, height, 4, pixels, [0, 1, 2, 3, 4, 4, 3, 2, 1]));
  assert.deepEqual(image.rgba, pixels);
});

Deno.test("decodePng refuses a damaged chunk, a wrong signature and a palette image", () => {
  const png = encodePng(2, 2, 3, noise(12, 1), [0]);
  const damaged = png.slice();
  damaged[40] = damaged[40]! ^ 0xff;
  assert.throws(() => decodePng(damaged), /CRC/);
  assert.throws(() => decodePng(png.subarray(1)), /signature/);
  const palette = png.slice();
  palette[8 + 8 + 9] = 3; // IHDR colour type
  const h = palette.subarray(12, 12 + 17);
  new DataView(palette.buffer).setUint32(8 + 8 + 13, crc32(h));
  assert.throws(() => decodePng(palette), /colour type 3/);
});

Deno.test("pixelsDiffering counts pixels unlike the background inside a box, clipped", () => {
  const width = 4, height = 4;
  const pixels = new Uint8Array(width * height * 3).fill(255);
  pixels.set([0, 0, 0], (1 * width + 2) * 3); // one black pixel at (2, 1)
  const image = decodePng(encodePng(width, height, 3, pixels, [4]));
  const white: [number, number, number, number] = [255, 255, 255, 255];
  assert.deepEqual(pixelsDiffering(image, { x: 0, y: 0, width: 4, height: 4 }, white), 1);
  assert.deepEqual(pixelsDiffering(image, { x: 0, y: 2, width: 4, height: 2 }, white), 0);
  assert.deepEqual(pixelsDiffering(image, { x: 2, y: 1, width: 99, height: 99 }, white), 1);
  assert.deepEqual(colourCount(image), 2);
});
