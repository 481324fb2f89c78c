/**
 * The mail `chat client` has shown, kept across runs beside the identity files:
 * `identities/<host>_<port>/<name>.seen`, one key per line (see `SeenMail`). The server delivers
 * mail at least once: after a crash between showing a message and the server deleting it, the
 * next run gets it again with the same mail id, and this file lets that run drop it. Only the
 * latest keys matter (a redelivery repeats the last few), so the file keeps {@link SEEN_KEPT}.
 *
 * Nothing here stops the client: a file that cannot be read or written only means duplicates
 * are dropped within one run, as without it.
 *
 * @module
 */
import { seenMailOver } from "./mail.ts";
import type { SeenMail } from "./options.ts";

/** How many keys the file keeps (the newest); it is rewritten once it holds twice as many. */
export const SEEN_KEPT = 1000;

/**
 * The mail shown to one user, in the file at `path` (made with mode 0600 in a folder made with
 * mode 0700 on the first key). Lines that are not keys (a damaged file) are ignored.
 */
export function seenMailFile(path: string): SeenMail {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    // Missing (a first run) or unreadable: nothing was shown before, as far as we can tell.
  }
  return seenMailOver(text.split("\n"), SEEN_KEPT, (key, keys, cut) => {
    if (cut) {
      const tmp = `${path}.tmp`;
      Deno.writeTextFileSync(tmp, keys.join("\n") + "\n", { mode: 0o600 });
      Deno.renameSync(tmp, path);
      return;
    }
    const slash = path.lastIndexOf("/");
    if (keys.length === 1 && slash > 0) {
      Deno.mkdirSync(path.slice(0, slash), { recursive: true, mode: 0o700 });
    }
    Deno.writeTextFileSync(path, key + "\n", { append: true, mode: 0o600 });
  });
}
