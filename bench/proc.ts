/**
 * Reading a process's CPU time and memory from Linux `/proc`, and the limits the bench works
 * within (clock ticks, open-file limit, `taskset`).
 *
 * @module
 */

/** CPU time a process has used, in clock ticks (see {@link clockTicksPerSecond}). */
export interface CpuTicks {
  /** Time in user mode. */
  user: number;
  /** Time in the kernel on the process's behalf (for loopback TCP, much of the network stack). */
  sys: number;
}

/**
 * Reads a file under `/proc` with `cat`: Deno lets only `--allow-all` programs read `/proc`
 * directly, and the bench runs with `--allow-run` instead. Null if it cannot be read.
 */
export async function readProc(path: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** CPU ticks of `pid` from `/proc/PID/stat` (utime and stime), or null once it has exited. */
export async function cpuTicks(pid: number): Promise<CpuTicks | null> {
  const text = await readProc(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so field N is rest[N - 3]: utime is 14, stime is 15.
  return { user: Number(rest[11]), sys: Number(rest[12]) };
}

/** Resident memory of `pid` in KiB (`VmRSS` of `/proc/PID/status`), or null once it has exited. */
export async function rssKiB(pid: number): Promise<number | null> {
  const text = await readProc(`/proc/${pid}/status`);
  const m = text === null ? null : /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** Number of open files of `pid` (entries of `/proc/PID/fd`), or null. */
export async function openFiles(pid: number): Promise<number | null> {
  const n = Number(await shell(`ls /proc/${pid}/fd | wc -l`));
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** The kernel's clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be asked. */
export async function clockTicksPerSecond(): Promise<number> {
  const n = Number(await shell("getconf CLK_TCK"));
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** The hard limit on open files (children may raise their soft limit to it). */
export async function openFilesHardLimit(): Promise<number> {
  const text = await shell("ulimit -Hn");
  if (text === "unlimited") return 1 << 20;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : 1024;
}

async function shell(script: string): Promise<string> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

/** Path of `taskset` if it is installed, else null. */
export function findTaskset(): string | null {
  for (const p of ["/usr/bin/taskset", "/bin/taskset", "/usr/local/bin/taskset"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not there */ }
  }
  return null;
}

/** Linux kernel release, such as `6.1.0`, or `"?"`. */
export async function kernelRelease(): Promise<string> {
  return (await shell("uname -r")) || "?";
}
