/** The WebSocket frame codec: frames in any split, streamed payloads, every protocol error. */
import assert from "node:assert/strict";
import {
  acceptKey,
  closePayload,
  encodeFrame,
  FrameDecoder,
  type FrameEvent,
  Opcode,
} from "./websocket.ts";

const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const text = (s: string) => new TextEncoder().encode(s);

/** What a decoder made of some chunks: data bytes joined, other events in order. */
interface Decoded {
  data: Uint8Array;
  events: FrameEvent[];
}

/** Pushes `chunks` into a fresh decoder; data bytes are copied at once (their lifetime). */
function decode(chunks: Uint8Array[], masked = true): Decoded {
  const decoder = new FrameDecoder({ masked });
  const parts: number[] = [];
  const events: FrameEvent[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk, (event) => {
      if (event.type === "data") parts.push(...event.bytes);
      else events.push(event);
    });
  }
  return { data: new Uint8Array(parts), events };
}

/** A frame with any first byte and payload, masked or not, to build what encodeFrame refuses. */
function rawFrame(b0: number, payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  const frame = encodeFrame(Opcode.Binary, payload, mask);
  frame[0] = b0;
  return frame;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function errorOf(decoded: Decoded): { code: number; reason: string } {
  const last = decoded.events.at(-1);
  assert.ok(last?.type === "error", `expected an error, got ${JSON.stringify(decoded.events)}`);
  return last;
}

Deno.test("acceptKey gives the RFC 6455 section 1.3 example's accept value", async () => {
  assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("encodeFrame writes the shortest length encoding at each boundary", () => {
  const cases: [number, number[]][] = [
    [0, [0x82, 0]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ];
  for (const [length, header] of cases) {
    const frame = encodeFrame(Opcode.Binary, new Uint8Array(length).fill(7));
    assert.deepEqual([...frame.subarray(0, header.length)], header, `length ${length}`);
    assert.equal(frame.length, header.length + length);
    assert.ok(frame.subarray(header.length).every((b) => b === 7));
  }
});

Deno.test("encodeFrame with a mask sets the mask bit and masks a copy of the payload", () => {
  const payload = text("Hello");
  const frame = encodeFrame(Opcode.Text, payload, MASK);
  assert.deepEqual([...frame.subarray(0, 6)], [0x81, 0x85, ...MASK]);
  assert.deepEqual([...frame.subarray(6)], [...payload].map((b, i) => b ^ MASK[i % 4]!));
  assert.deepEqual(payload, text("Hello"), "the payload is not modified");
  // RFC 6455 section 5.7: a single-frame masked text message "Hello".
  const rfc = encodeFrame(Opcode.Text, text("Hello"), new Uint8Array([0x37, 0xfa, 0x21, 0x3d]));
  assert.deepEqual(
    [...rfc],
    [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
  );
});

Deno.test("encodeFrame refuses a mask that is not 4 bytes and a control payload over 125 bytes", () => {
  assert.throws(() => encodeFrame(Opcode.Binary, text("x"), new Uint8Array(3)), /4 bytes/);
  assert.throws(() => encodeFrame(Opcode.Ping, new Uint8Array(126)), /125 bytes/);
  assert.equal(encodeFrame(Opcode.Ping, new Uint8Array(125)).length, 127);
});

Deno.test("closePayload is the code then the reason, cut to 123 bytes at a character boundary", () => {
  assert.deepEqual([...closePayload(1002, "no")], [0x03, 0xea, 0x6e, 0x6f]);
  const long = closePayload(1000, "\u00e9".repeat(100)); // 200 bytes of 2-byte characters
  assert.equal(long.length, 2 + 122);
  assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(long.subarray(2)).length, 61);
  assert.equal(closePayload(1000, "a".repeat(200)).length, 125);
});

/** Frames of a fragmented message with a ping between fragments, then a 300-byte frame, a close. */
function conversation(mask: Uint8Array | undefined): { wire: Uint8Array; data: Uint8Array } {
  const big = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
  const first = encodeFrame(Opcode.Text, text("SEND bob\n"), mask);
  first[0] = first[0]! & 0x7f; // not FIN: a message in fragments
  const middle = encodeFrame(Opcode.Continuation, text("Content-length: 2\n"), mask);
  middle[0] = middle[0]! & 0x7f;
  const wire = concat(
    first,
    encodeFrame(Opcode.Ping, text("p1"), mask),
    middle,
    encodeFrame(Opcode.Continuation, text("\nhi"), mask),
    encodeFrame(Opcode.Binary, new Uint8Array(0), mask),
    encodeFrame(Opcode.Binary, big, mask),
    encodeFrame(Opcode.Pong, new Uint8Array(0), mask),
    encodeFrame(Opcode.Close, closePayload(1000, "bye"), mask),
  );
  return { wire, data: concat(text("SEND bob\nContent-length: 2\n\nhi"), big) };
}

const CONVERSATION_EVENTS: FrameEvent[] = [
  { type: "ping", payload: text("p1") },
  { type: "pong", payload: new Uint8Array(0) },
  { type: "close", code: 1000, reason: "bye" },
];

for (const masked of [true, false]) {
  const side = masked ? "masked (server side)" : "unmasked (client side)";
  Deno.test(`FrameDecoder ${side} gives the same data and events at every split point`, () => {
    const { wire, data } = conversation(masked ? MASK : undefined);
    const copy = wire.slice();
    for (let split = 0; split <= wire.length; split++) {
      const decoded = decode([wire.subarray(0, split), wire.subarray(split)], masked);
      assert.deepEqual(decoded.data, data, `split at ${split}`);
      assert.deepEqual(decoded.events, CONVERSATION_EVENTS, `split at ${split}`);
    }
    assert.deepEqual(wire, copy, "the pushed chunks are never modified");
  });

  Deno.test(`FrameDecoder ${side} decodes one byte at a time and in three pieces`, () => {
    const { wire, data } = conversation(masked ? MASK : undefined);
    const bytes = decode([...wire].map((b) => new Uint8Array([b])), masked);
    assert.deepEqual(bytes.data, data);
    assert.deepEqual(bytes.events, CONVERSATION_EVENTS);
    for (let a = 0; a <= wire.length; a += 3) {
      for (let b = a; b <= wire.length; b += 5) {
        const decoded = decode(
          [wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)],
          masked,
        );
        assert.deepEqual(decoded.data, data, `splits at ${a} and ${b}`);
        assert.deepEqual(decoded.events, CONVERSATION_EVENTS, `splits at ${a} and ${b}`);
      }
    }
  });
}

Deno.test("FrameDecoder decodes a 64-bit-length frame split anywhere in its header and payload", () => {
  for (const masked of [true, false]) {
    const payload = new Uint8Array(65_541).map((_, i) => (i * 13 + 1) & 0xff);
    const wire = concat(
      encodeFrame(Opcode.Binary, payload, masked ? MASK : undefined),
      encodeFrame(Opcode.Ping, text("after"), masked ? MASK : undefined),
    );
    const splits = [
      ...Array.from({ length: 24 }, (_, i) => i), // every point of the header and just past it
      ...Array.from({ length: 24 }, (_, i) => wire.length - i), // the end and the ping
      ...Array.from({ length: 16 }, (_, i) => 24 + i * 4099), // and through the payload
    ];
    for (const split of splits) {
      const decoded = decode([wire.subarray(0, split), wire.subarray(split)], masked);
      assert.deepEqual(decoded.data, payload, `masked ${masked}, split at ${split}`);
      assert.deepEqual(decoded.events, [{ type: "ping", payload: text("after") }]);
    }
  }
});

Deno.test("FrameDecoder streams a payload as it arrives, never holding the frame", () => {
  const decoder = new FrameDecoder({ masked: true });
  const seen: number[] = [];
  const emit = (event: FrameEvent) => {
    assert.equal(event.type, "data");
    if (event.type === "data") seen.push(event.bytes.length);
  };
  const frame = encodeFrame(Opcode.Binary, new Uint8Array(100_000), MASK);
  decoder.push(frame.subarray(0, 14), emit); // the header alone: nothing yet
  assert.deepEqual(seen, []);
  decoder.push(frame.subarray(14, 18), emit);
  assert.deepEqual(seen, [4]);
  decoder.push(frame.subarray(18, 1018), emit);
  assert.deepEqual(seen, [4, 1000]);
});

Deno.test("FrameDecoder unmasks a chunk over 64 KiB in pieces of its reusable buffer", () => {
  const payload = new Uint8Array(200_003).map((_, i) => (i * 31 + 5) & 0xff);
  const frame = encodeFrame(Opcode.Binary, payload, MASK);
  const decoder = new FrameDecoder({ masked: true });
  const pieces: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  decoder.push(frame, (event) => {
    if (event.type !== "data") return;
    buffers.add(event.bytes.buffer);
    pieces.push(event.bytes.slice());
  });
  assert.deepEqual(pieces.map((p) => p.length), [65536, 65536, 65536, 3395]);
  assert.equal(buffers.size, 1, "one reusable buffer");
  assert.deepEqual(concat(...pieces), payload);
});

Deno.test("FrameDecoder decoders share the unmasking buffer, and one pushed from another's emit still decodes", () => {
  const outer = new FrameDecoder({ masked: true });
  const inner = new FrameDecoder({ masked: true });
  const other = new FrameDecoder({ masked: true });
  const buffers: ArrayBufferLike[] = [];
  let innerText = "";
  let outerText = "";
  outer.push(encodeFrame(Opcode.Binary, text("outer"), MASK), (event) => {
    if (event.type !== "data") return;
    buffers.push(event.bytes.buffer);
    inner.push(encodeFrame(Opcode.Binary, text("inner"), MASK), (e) => {
      if (e.type === "data") innerText += new TextDecoder().decode(e.bytes);
    });
    outerText += new TextDecoder().decode(event.bytes); // still intact after the nested push
  });
  other.push(encodeFrame(Opcode.Binary, text("other"), MASK), (event) => {
    if (event.type === "data") buffers.push(event.bytes.buffer);
  });
  assert.equal(outerText, "outer");
  assert.equal(innerText, "inner");
  assert.equal(buffers[0], buffers[1], "the next decoder reuses the shared buffer");
});

Deno.test("FrameDecoder reuses one data event object (valid only during the call)", () => {
  const decoder = new FrameDecoder({ masked: true });
  const seen = new Set<FrameEvent>();
  for (let i = 0; i < 3; i++) {
    decoder.push(encodeFrame(Opcode.Binary, text(`m${i}`), MASK), (event) => seen.add(event));
  }
  assert.equal(seen.size, 1);
});

Deno.test("FrameDecoder takes a 64-bit length up to 2^53 and streams it", () => {
  // 2^53 - 1 bytes announced; the decoder hands on what came and waits for the rest.
  const header = [0x82, 0xff, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...MASK];
  const decoded = decode([new Uint8Array([...header, 1, 2, 3])]);
  assert.deepEqual(decoded.events, []);
  assert.deepEqual([...decoded.data], [1 ^ MASK[0]!, 2 ^ MASK[1]!, 3 ^ MASK[2]!]);
});

Deno.test("FrameDecoder refuses a 64-bit length with the top bit set (1002) or over 2^53 (1009)", () => {
  const top = decode([new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, ...MASK])]);
  assert.equal(errorOf(top).code, 1002);
  assert.match(errorOf(top).reason, /most significant bit/);
  const huge = decode([new Uint8Array([0x82, 0xff, 0x00, 0x20, 0, 0, 0, 0, 0, 0, ...MASK])]);
  assert.equal(errorOf(huge).code, 1009);
});

Deno.test("FrameDecoder refuses any reserved bit (no extension is negotiated) with 1002", () => {
  for (const rsv of [0x40, 0x20, 0x10, 0x70]) {
    const decoded = decode([rawFrame(0x82 | rsv, text("x"), MASK)]);
    assert.equal(errorOf(decoded).code, 1002);
    assert.match(errorOf(decoded).reason, /reserved bits/);
    assert.deepEqual(decoded.data, new Uint8Array(0), "no payload handed on");
  }
});

Deno.test("FrameDecoder refuses unknown opcodes with 1002", () => {
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    const decoded = decode([rawFrame(0x80 | opcode, text("x"), MASK)]);
    assert.equal(errorOf(decoded).code, 1002, `opcode ${opcode}`);
    assert.match(errorOf(decoded).reason, new RegExp(`unknown opcode "${opcode}"`));
  }
});

Deno.test("FrameDecoder requires masking on the server side and forbids it on the client side", () => {
  const unmasked = decode([encodeFrame(Opcode.Binary, text("x"))], true);
  assert.equal(errorOf(unmasked).code, 1002);
  assert.match(errorOf(unmasked).reason, /not masked/);
  const masked = decode([encodeFrame(Opcode.Binary, text("x"), MASK)], false);
  assert.equal(errorOf(masked).code, 1002);
  assert.match(errorOf(masked).reason, /was masked/);
});

Deno.test("FrameDecoder refuses a fragmented control frame and one over 125 bytes", () => {
  const fragmented = decode([rawFrame(Opcode.Ping, text("x"), MASK)]);
  assert.match(errorOf(fragmented).reason, /fragmented/);
  const long = rawFrame(0x80 | Opcode.Ping, new Uint8Array(126), MASK);
  const decoded = decode([long.subarray(0, 2)]); // refused from its first two bytes
  assert.equal(errorOf(decoded).code, 1002);
  assert.match(errorOf(decoded).reason, /more than 125 bytes/);
});

Deno.test("FrameDecoder refuses a continuation without a message and a new message in a fragmented one", () => {
  const orphan = decode([encodeFrame(Opcode.Continuation, text("x"), MASK)]);
  assert.match(errorOf(orphan).reason, /continuation frame/);
  const open = rawFrame(Opcode.Binary, text("a"), MASK); // no FIN
  const interrupted = decode([open, encodeFrame(Opcode.Text, text("b"), MASK)]);
  assert.equal(errorOf(interrupted).code, 1002);
  assert.match(errorOf(interrupted).reason, /before the fragmented message ended/);
  assert.deepEqual(interrupted.data, text("a"));
});

Deno.test("FrameDecoder checks close payloads: code, length and UTF-8 reason", () => {
  const close = (payload: Uint8Array) => decode([encodeFrame(Opcode.Close, payload, MASK)]);
  assert.deepEqual(close(new Uint8Array(0)).events, [{ type: "close", reason: "" }]);
  for (const code of [1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999]) {
    assert.deepEqual(close(closePayload(code, "\u00e9")).events, [
      { type: "close", code, reason: "\u00e9" },
    ]);
  }
  const one = close(new Uint8Array([3]));
  assert.equal(errorOf(one).code, 1002);
  assert.match(errorOf(one).reason, /1-byte/);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    const bad = close(closePayload(code, ""));
    assert.equal(errorOf(bad).code, 1002, `code ${code}`);
    assert.match(errorOf(bad).reason, new RegExp(`"${code}"`));
  }
  const badUtf8 = close(new Uint8Array([0x03, 0xe8, 0xc3]));
  assert.equal(errorOf(badUtf8).code, 1007);
});

Deno.test("FrameDecoder ignores all input after an error and after a close", () => {
  const good = encodeFrame(Opcode.Binary, text("more"), MASK);
  const afterError = decode([rawFrame(0xc2, text("x"), MASK), good, good]);
  assert.equal(afterError.events.length, 1);
  assert.deepEqual(afterError.data, new Uint8Array(0));
  const afterClose = decode([concat(encodeFrame(Opcode.Close, new Uint8Array(0), MASK), good)]);
  assert.deepEqual(afterClose.events, [{ type: "close", reason: "" }]);
  assert.deepEqual(afterClose.data, new Uint8Array(0));
});

Deno.test("FrameDecoder error reasons are one sentence that fits in a close frame", () => {
  const bad = [
    rawFrame(0xf2, text("x"), MASK),
    rawFrame(0x83, text("x"), MASK),
    rawFrame(0x09, text("x"), MASK),
    encodeFrame(Opcode.Binary, text("x")),
    encodeFrame(Opcode.Continuation, text("x"), MASK),
    new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, ...MASK]),
    new Uint8Array([0x82, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 1, ...MASK]),
    encodeFrame(Opcode.Close, closePayload(1005, ""), MASK),
  ];
  for (const frame of bad) {
    const { reason } = errorOf(decode([frame]));
    assert.ok(new TextEncoder().encode(reason).length <= 123, reason);
    assert.match(reason, /^[A-Z].*\.$/, reason);
  }
});
