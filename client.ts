/**
 * `chat client`: the terminal client. Not built yet.
 *
 * @module
 */

/** Entry point of `chat client`: returns the process exit code. */
export function clientMain(_args: string[]): Promise<number> {
  console.error("The chat client is not built yet. Use any client of the protocol for now.");
  return Promise.resolve(1);
}
