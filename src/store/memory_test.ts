import { dataContract } from "./contract_testing.ts";
import { MemoryData } from "./memory.ts";

dataContract("MemoryData", () =>
  Promise.resolve({
    open: () => Promise.resolve(new MemoryData()),
    durable: false,
    cleanup: () => Promise.resolve(),
  }));
