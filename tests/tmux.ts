/**
 * A real terminal for tests: one tmux server on its own socket, one 80x24 pane running a shell
 * command, keys typed with `send-keys` and the screen read with `capture-pane`. Tests that need
 * it are ignored (and say so in their names) when tmux is not installed.
 *
 * @module
 */

/** True if the `tmux` command runs. */
export function tmuxAvailable(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Quotes a word for the POSIX shell that tmux runs the command with. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server on its own socket, with one 80x24 pane. */
export class TmuxPane {
  readonly socket = `chat-ops-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  /** Runs a tmux command on this pane's server and returns its standard output. */
  async tmux(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  }

  /**
   * Starts `shellLine` (run by `sh -c`) in the pane, in `cwd`; afterwards the pane keeps the
   * screen for a minute so that it can still be read.
   */
  async start(shellLine: string, cwd: string): Promise<void> {
    await this.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "80",
      "-y",
      "24",
      "-c",
      cwd,
      `${shellLine}; sleep 60`,
    );
  }

  /** Presses keys by tmux name: Enter, C-c... */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) await this.tmux("send-keys", "-t", "t", key);
  }

  /** Everything the pane showed, scrollback included, trailing blank lines dropped. */
  async screen(): Promise<string[]> {
    const text = await this.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t");
    const lines = text.split("\n").map((l) => l.trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** Waits until a line matches `pattern` and returns it. */
  async waitFor(pattern: RegExp, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await this.screen();
      const hit = lines.find((l) => pattern.test(l));
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${what}. Screen:\n${lines.join("\n")}`);
  }

  /** Stops the tmux server and everything still running in it. */
  async close(): Promise<void> {
    try {
      await this.tmux("kill-server");
    } catch { /* already gone */ }
  }
}
