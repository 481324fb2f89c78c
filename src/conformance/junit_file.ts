/**
 * Writing a conformance report as a JUnit file, for both modes of `chat conformance`.
 *
 * @module
 */
import type { Report } from "./case.ts";
import { toJunit } from "./report.ts";

/**
 * Writes `report` as JUnit XML to `path`. Resolves to null when written, else to the sentence
 * that says why not (to print as it is).
 */
export async function writeJunitFile(path: string, report: Report): Promise<string | null> {
  try {
    await Deno.writeTextFile(path, toJunit(report));
    return null;
  } catch (error) {
    const why =
      error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
        ? 'this program may not write files: use "--junit -" and redirect standard output'
        : error instanceof Deno.errors.NotFound
        ? 'its folder does not exist: create it, or use "--junit -" and redirect standard output'
        : `${error instanceof Error ? error.message : String(error)}; ` +
          'check the path, or use "--junit -" and redirect standard output';
    return `Cannot write the JUnit report to "${path}": ${why}.`;
  }
}
