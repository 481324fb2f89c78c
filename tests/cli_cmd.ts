/**
 * The `chat` command under test, shared by the end-to-end tests.
 *
 * @module
 */
import { PERMISSIONS } from "../scripts/build.ts";

/**
 * The command line that runs `chat`, as program and arguments. From the environment variable
 * `CHAT_CMD` when it is set (split at whitespace: `./chat` for the launcher, `dist/chat` for a
 * compiled binary); otherwise this checkout's `main.ts` under the running Deno with the
 * permissions the shipped command has (`--allow-net --allow-read --allow-run`, from
 * scripts/build.ts).
 */
export function chatCommand(): [program: string, ...args: string[]] {
  const fromEnv = Deno.env.get("CHAT_CMD")?.trim();
  if (fromEnv) {
    const [program = fromEnv, ...args] = fromEnv.split(/\s+/);
    return [program, ...args];
  }
  const main = new URL("../main.ts", import.meta.url);
  let path = decodeURIComponent(main.pathname);
  if (Deno.build.os === "windows") path = path.replace(/^\/([A-Za-z]:)/, "$1");
  return [Deno.execPath(), "run", ...PERMISSIONS, path];
}
