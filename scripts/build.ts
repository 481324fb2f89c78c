/**
 * Builds the single `chat` executable with `deno compile`.
 *
 *   deno task compile              ./chat for this platform
 *   deno task release              dist/chat-<target> for every target, and dist/SHA256SUMS
 *
 * `deno compile` downloads a runtime (`denort`) for each target the first time. Without internet
 * access, set DENORT_BIN to a local `denort` of the same Deno version for this platform.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** Targets of `deno task release`: every platform `deno compile` supports. */
export const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** Permissions baked into the executable: network, and reading files for TLS certificates. */
export const PERMISSIONS = ["--allow-net", "--allow-read"];

const HELP = `Usage: deno task compile [--output FILE]
       deno task release [--out-dir DIR]

Builds the chat executable with deno compile (permissions: ${PERMISSIONS.join(" ")}).
Without internet access, set DENORT_BIN to a denort binary of Deno ${Deno.version.deno} for
this platform.
`;

/** Why a build failed, in one sentence a user can act on. */
export function explainFailure(stderr: string, target: string): string {
  if (/dl\.deno\.land|error sending request|dns error|failed to lookup|Connect\)/i.test(stderr)) {
    return `Cannot build for "${target}": deno compile needs its runtime (denort) for that ` +
      `target and could not download it (no internet access?). Connect to the internet, or set ` +
      `DENORT_BIN to a denort binary of Deno ${Deno.version.deno} for this platform.`;
  }
  if (/DENORT_BIN/.test(stderr) || /No such file/.test(stderr)) {
    return `Cannot build for "${target}": the runtime in DENORT_BIN ` +
      `("${Deno.env.get("DENORT_BIN") ?? ""}") could not be used. Point it at a denort binary of ` +
      `Deno ${Deno.version.deno} for this platform.`;
  }
  const last = stderr.trim().split("\n").filter((l) => l.trim()).slice(-1)[0] ?? "unknown error";
  // deno-lint-ignore no-control-regex
  return `Cannot build for "${target}": ${last.replace(/\x1b\[[0-9;]*m/g, "").trim()}`;
}

/** Compiles main.ts into `output`; resolves to an error sentence, or null on success. */
export async function compile(output: string, target?: string): Promise<string | null> {
  const args = [
    "compile",
    ...PERMISSIONS,
    "--exclude",
    "node_modules",
    "--output",
    output,
    ...(target ? ["--target", target] : []),
    new URL("../main.ts", import.meta.url).pathname,
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  if (result.success) return null;
  const stderr = new TextDecoder().decode(result.stderr);
  return explainFailure(stderr, target ?? Deno.build.target);
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function release(outDir: string): Promise<number> {
  await Deno.mkdir(outDir, { recursive: true });
  const local = Deno.env.get("DENORT_BIN");
  const sums: string[] = [];
  const failures: string[] = [];
  for (const target of RELEASE_TARGETS) {
    if (local && target !== Deno.build.target) {
      failures.push(
        `Skipped "${target}": DENORT_BIN is a runtime for this platform ` +
          `("${Deno.build.target}") only; other targets need internet access.`,
      );
      continue;
    }
    const name = `chat-${denoJson.version}-${target}${target.includes("windows") ? ".exe" : ""}`;
    const path = `${outDir}/${name}`;
    console.log(`Building ${path}`);
    const error = await compile(path, target);
    if (error) {
      failures.push(error);
      continue;
    }
    sums.push(`${await sha256(path)}  ${name}`);
  }
  if (sums.length > 0) {
    await Deno.writeTextFile(`${outDir}/SHA256SUMS`, sums.join("\n") + "\n");
    console.log(`Wrote ${outDir}/SHA256SUMS (${sums.length} of ${RELEASE_TARGETS.length} targets)`);
  }
  for (const f of failures) console.error(f);
  return failures.length === 0 ? 0 : 1;
}

async function build(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
  };
  if (args.includes("--release")) return await release(flag("--out-dir", "dist"));
  const output = flag("--output", "chat");
  const error = await compile(output);
  if (error) {
    console.error(error);
    return 1;
  }
  console.log(
    `Built ./${output.replace(/^\.\//, "")} (chat ${denoJson.version}, ${Deno.build.target})`,
  );
  return 0;
}

if (import.meta.main) {
  Deno.exit(await build(Deno.args));
}
