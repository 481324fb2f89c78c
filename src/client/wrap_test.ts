/** Fitting text to the terminal: widths, wrapping with a hanging indent, name colours. */
import assert from "node:assert/strict";
import { displayWidth, stripAnsi, wrap } from "./wrap.ts";
import { colorName, NAME_PALETTE, nameCode, SELF_COLOR } from "./palette.ts";

Deno.test("displayWidth counts colour codes as nothing and wide characters as two", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("\x1b[1;36mabc\x1b[0m"), 3);
  assert.equal(displayWidth("日本"), 4);
  assert.equal(displayWidth("e\u0301"), 1);
  assert.equal(stripAnsi("\x1b[31mred\x1b[0m"), "red");
});

Deno.test("wrap breaks at spaces, indents the rows after the first, and splits long words", () => {
  assert.deepEqual(wrap("12:34 abc: one two three four five", 30, 11), [
    "12:34 abc: one two three four",
    "           five",
  ]);
  assert.deepEqual(wrap("x: " + "a".repeat(40), 20, 3), [
    "x: aaaaaaaaaaaaaaaaa",
    "   aaaaaaaaaaaaaaaaa",
    "   aaaaaa",
  ]);
  for (const row of wrap("word ".repeat(50), 30, 6)) assert.ok(displayWidth(row) <= 30, row);
});

Deno.test("wrap indents the further lines of a text with newlines", () => {
  assert.deepEqual(wrap("abc: one\ntwo", 80, 5), ["abc: one", "     two"]);
});

Deno.test("wrap drops an indent that would leave under 10 columns", () => {
  assert.deepEqual(wrap("12:34 abc → xyz: hello world", 24, 17), [
    "12:34 abc → xyz: hello",
    "world",
  ]);
});

Deno.test("nameCode gives each name a stable palette colour and the user's own name bold", () => {
  assert.equal(nameCode("xyz", "abc"), nameCode("xyz", "abc"));
  assert.ok(NAME_PALETTE.includes(nameCode("xyz", "abc")));
  assert.equal(nameCode("abc", "abc"), SELF_COLOR);
  const codes = new Set(["ann", "bob", "cat", "dan", "eve", "fay"].map((n) => nameCode(n, "")));
  assert.ok(codes.size >= 3, "names spread over the palette");
  assert.equal(colorName(false, "xyz", "abc"), "xyz");
});
