/**
 * The raw-socket test peer, shared by the test suite. It lives in product code
 * (src/conformance/wire.ts), where `chat conformance` uses it to check other people's servers;
 * this module re-exports it so the tests keep one import path.
 *
 * Every wire must be closed (see {@link Wire.close} and {@link withWires}) so that Deno's
 * resource and op sanitizers pass.
 *
 * @module
 */
export {
  type Addr,
  ARRIVE_MS,
  bytesOf,
  concat,
  delay,
  describe,
  QUIET_MS,
  registerUser,
  type TestUser,
  textOf,
  Wire,
  Wires,
  withWires,
} from "../src/conformance/wire.ts";
