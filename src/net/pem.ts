/**
 * Reading PEM files (TLS certificates and keys) named on the command line, with one plain
 * sentence for each way it can fail. Shared by the server and the client commands.
 *
 * @module
 */

/**
 * Reads a PEM file for TLS; on failure prints one sentence saying what to do and returns null.
 * Shared by the server and the client.
 */
export async function readPem(path: string, what: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(path);
    if (!text.includes("-----BEGIN")) {
      console.error(`Cannot use ${what} "${path}": it is not a PEM file (no "-----BEGIN" line).`);
      return null;
    }
    return text;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      console.error(`Cannot read ${what} "${path}": no such file.`);
    } else if (
      error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
    ) {
      console.error(
        `Cannot read ${what} "${path}": file access is not allowed. Run with --allow-read ` +
          `(the chat executable and the deno tasks have it).`,
      );
    } else {
      console.error(
        `Cannot read ${what} "${path}": ${error instanceof Error ? error.message : error}.`,
      );
    }
    return null;
  }
}
