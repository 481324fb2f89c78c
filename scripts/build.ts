/**
 * Builds the single `chat` executable with `deno compile`.
 *
 *   deno task compile              dist/chat for this platform
 *   deno task release              dist/chat-VERSION-TARGET for every target, and dist/SHA256SUMS
 *
 * `deno compile` downloads a runtime (`denort`) for each target the first time. Without internet
 * access, set DENORT_BIN to a local `denort` of the same Deno version for this platform. Every
 * failure is one sentence on standard error and exit code 1 (2 for a mistake in the arguments).
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import { BUNDLE_FILE, bundleFromSource, pathOf, type ScriptResult } from "../src/web/assets.ts";

/** Targets of `deno task release`: every platform `deno compile` supports. */
export const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/**
 * Permissions baked into the executable: network; reading files (the TLS certificates and keys
 * named with --tls-cert, --tls-key and --ca, the server's data and the client's identities);
 * starting programs (only ever the client named after `--` in `chat conformance client --
 * COMMAND`); writing files (only ever the server's data directory, `--data` or
 * `$XDG_DATA_HOME/chat`, and the client's identities under `$XDG_CONFIG_HOME/chat`); and reading
 * the three environment variables that locate those (HOME, XDG_CONFIG_HOME, XDG_DATA_HOME);
 * and the machine's host name (the web port answers requests for it: see
 * src/server/web_names.ts). Files and programs are named at run time, so the grants cannot be
 * narrowed at build time. No other env or sys access, no ffi access. The launcher `chat` and
 * deno.json's tasks give the source the same (tests/launcher_test.ts checks it).
 */
export const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-run",
  // The server's data directory and the client's identities: both are chosen at run time
  // (--data, XDG_DATA_HOME, XDG_CONFIG_HOME, HOME), so writing cannot be scoped at build time.
  "--allow-write",
  "--allow-env=HOME,XDG_CONFIG_HOME,XDG_DATA_HOME",
  // Deno.hostname() alone: the web port answers to the machine's name (and NAME.local), and
  // refuses other names against DNS rebinding. Without it the server goes on without the name.
  "--allow-sys=hostname",
];

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname)
  .replace(/^\/([A-Za-z]:)/, "$1");

const HELP = `Usage: deno task compile [--output FILE]
       deno task release [--out-dir DIR]

Builds the chat executable with deno compile, with the permissions
  ${PERMISSIONS.join("\n  ")}

  compile    FILE for this platform (${Deno.build.target}), default dist/chat
  release    DIR/chat-${denoJson.version}-TARGET (.exe on Windows), default dist/, and
             DIR/SHA256SUMS, for every TARGET:
               ${RELEASE_TARGETS.join("\n               ")}

deno compile downloads its runtime (denort) for each target the first time, so building needs
internet access; without it, set DENORT_BIN to a denort binary of Deno ${Deno.version.deno} for
this platform (release then builds this platform only).
`;

const DOWNLOAD_FAILED =
  /dl\.deno\.land|error sending request|dns error|failed to lookup|Connect\)|timed out/i;

/** The last meaningful line of deno compile's error output, without colours. */
function lastLine(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim())
    .filter((l) => l && !/^(Caused by:|Stack backtrace:|\d+: <unknown>)$/.test(l));
  return (lines.at(-1) ?? "unknown error").replace(/^(error:|\d+:)\s*/, "").replace(/\.$/, "")
    .replace(/^No such file or directory \(os error 2\)$/, "no such file");
}

/** Why a build failed, in one sentence a user can act on. */
export function explainFailure(
  stderr: string,
  target: string,
  denortBin = Deno.env.get("DENORT_BIN"),
): string {
  if (denortBin) {
    return `Cannot build for "${target}": the runtime in DENORT_BIN ("${denortBin}") could not ` +
      `be used (${lastLine(stderr)}); point DENORT_BIN at a denort binary of Deno ` +
      `${Deno.version.deno} for this platform, or unset it to download one.`;
  }
  if (DOWNLOAD_FAILED.test(stderr)) {
    return `Cannot build for "${target}": deno compile needs its runtime (denort) for that ` +
      `target and could not download it (no internet access?); connect to the internet, or set ` +
      `DENORT_BIN to a denort binary of Deno ${Deno.version.deno} for this platform.`;
  }
  return `Cannot build for "${target}": ${lastLine(stderr)}.`;
}

/**
 * Runs the executable just built for this platform: it must answer `--version` as chat, not as
 * the deno CLI (which is what a DENORT_BIN pointing at `deno` instead of `denort` produces).
 * Resolves to an error sentence, or null.
 */
async function verify(output: string): Promise<string | null> {
  let text = "";
  try {
    const child = new Deno.Command(executable(output), {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = await child.output();
    clearTimeout(timer);
    text = new TextDecoder().decode(out.stdout).trim() || new TextDecoder().decode(out.stderr);
  } catch (error) {
    text = error instanceof Error ? error.message : String(error);
  }
  const expected = `chat ${denoJson.version}`;
  if (text === expected) return null;
  const denortBin = Deno.env.get("DENORT_BIN");
  if (/^deno \d/.test(text) && denortBin) {
    return `Cannot build for "${Deno.build.target}": DENORT_BIN ("${denortBin}") is the deno ` +
      `command, not its runtime denort, so the file built runs as plain deno; point DENORT_BIN ` +
      `at a denort binary of Deno ${Deno.version.deno} for this platform.`;
  }
  return `Cannot build for "${Deno.build.target}": the file built does not run as chat ` +
    `(\`${output} --version\` printed "${lastLine(text)}", not "${expected}").`;
}

/** Where the bundle goes and what makes it (tests replace both). */
export interface BundleOptions {
  /** The file `deno compile` includes (default {@link BUNDLE_FILE}). */
  file?: URL;
  /** The bundler (default `bundleFromSource`). */
  bundle?: () => Promise<ScriptResult>;
}

/**
 * Bundles the web client (src/web/browser/app.ts) into {@link BUNDLE_FILE}, which `deno compile`
 * includes and the server serves from the executable. Resolves to an error sentence, or null.
 * The file is created exclusively: it is the build's lock, so that two builds at once do not
 * rewrite or delete the file while the other compiles it in (the executable reads it at a path
 * fixed when assets.ts is compiled, so it cannot take a unique name). The caller deletes it
 * after compiling (see {@link withBundle}); it is left alone when another build holds it.
 */
export async function writeBundle(options: BundleOptions = {}): Promise<string | null> {
  return (await makeBundle(options)).error;
}

/** {@link writeBundle}, saying also whether this build created the file (and must delete it). */
async function makeBundle(
  { file = BUNDLE_FILE, bundle = bundleFromSource }: BundleOptions,
): Promise<{ error: string | null; created: boolean }> {
  let out: Deno.FsFile;
  try {
    out = await Deno.open(file, { createNew: true, write: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return {
      created: false,
      error: `Cannot build: "${pathOf(file)}" exists, so another build is running; wait for ` +
        `it to finish (or, if none is, delete the file left by an interrupted one).`,
    };
  }
  try {
    const made = await bundle();
    if (!made.ok) return { created: true, error: `Cannot build: ${lowerFirst(made.reason)}` };
    for (let off = 0; off < made.js.length;) off += await out.write(made.js.subarray(off));
    return { created: true, error: null };
  } finally {
    out.close();
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Runs `build` with the web client bundled into {@link BUNDLE_FILE}, and deletes the file
 * afterwards whatever happens (a source run must never serve a stale bundle). Resolves to the
 * bundle's error sentence, or to what `build` resolves to.
 */
export async function withBundle(
  build: () => Promise<string | null | number>,
  options: BundleOptions = {},
): Promise<string | null | number> {
  const file = options.file ?? BUNDLE_FILE;
  let created = false;
  try {
    const made = await makeBundle(options);
    created = made.created; // not when another build holds it: theirs to delete
    return made.error ?? await build();
  } finally {
    if (created) await Deno.remove(file).catch(() => {});
  }
}

/** Compiles main.ts into `output`; resolves to an error sentence, or null on success. */
export async function compile(output: string, target?: string): Promise<string | null> {
  const args = [
    "compile",
    ...PERMISSIONS,
    "--exclude",
    `${ROOT}node_modules`,
    // The web client, bundled by writeBundle before: served from inside the executable.
    "--include",
    pathOf(BUNDLE_FILE),
    "--output",
    output,
    ...(target ? ["--target", target] : []),
    `${ROOT}main.ts`,
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
  }).output();
  const name = target ?? Deno.build.target;
  if (!result.success) return explainFailure(new TextDecoder().decode(result.stderr), name);
  if (name !== Deno.build.target) return null;
  const error = await verify(output);
  if (error) await Deno.remove(executable(output)).catch(() => {});
  return error;
}

/** The file deno compile wrote for `output` on this platform, as a path to run. */
function executable(output: string): string {
  const file = Deno.build.os === "windows" && !/\.exe$/i.test(output) ? `${output}.exe` : output;
  return /^([A-Za-z]:)?[\\/]/.test(file) || /^\.\.?[\\/]/.test(file) ? file : `./${file}`;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `a`, `a and b`, `a, b and c`. */
function list(items: string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

async function release(outDir: string): Promise<number> {
  await Deno.mkdir(outDir, { recursive: true });
  const local = Deno.env.get("DENORT_BIN");
  const sums: string[] = [];
  const failures: string[] = [];
  const noDownload: string[] = [];
  const skipped = local ? RELEASE_TARGETS.filter((t) => t !== Deno.build.target) : [];
  for (const target of RELEASE_TARGETS) {
    if (skipped.includes(target)) continue;
    const name = `chat-${denoJson.version}-${target}${target.includes("windows") ? ".exe" : ""}`;
    const path = `${outDir}/${name}`;
    console.log(`Building ${path}`);
    const error = await compile(path, target);
    if (error === null) sums.push(`${await sha256(path)}  ${name}`);
    else if (/could not download/.test(error)) {
      noDownload.push(target);
    } else failures.push(error);
  }
  if (sums.length === 0) await Deno.remove(outDir).catch(() => {}); // only if left empty
  if (sums.length > 0) {
    await Deno.writeTextFile(`${outDir}/SHA256SUMS`, sums.join("\n") + "\n");
    console.log(`Wrote ${outDir}/SHA256SUMS (${sums.length} of ${RELEASE_TARGETS.length} targets)`);
  }
  if (noDownload.length > 0) {
    failures.unshift(
      `Cannot build for ${list(noDownload)}: deno compile needs its runtime (denort) for each ` +
        `target and could not download it (no internet access?); connect to the internet, or ` +
        `set DENORT_BIN to a denort binary of Deno ${Deno.version.deno} to build for this ` +
        `platform only.`,
    );
  }
  if (skipped.length > 0) {
    failures.push(
      `Skipped ${list(skipped)}: DENORT_BIN is a runtime for this platform ` +
        `(${Deno.build.target}) only, and building the others needs internet access.`,
    );
  }
  for (const f of failures) console.error(f);
  return failures.length === 0 ? 0 : 1;
}

async function build(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const isRelease = args[0] === "--release";
  const rest = isRelease ? args.slice(1) : args;
  const known = isRelease ? "--out-dir" : "--output";
  if (rest.length > 0 && (rest[0] !== known || rest.length !== 2)) {
    console.error(
      `Unexpected arguments "${rest.join(" ")}": the only option is ${known} ` +
        `${isRelease ? "DIR" : "FILE"} (deno task ${isRelease ? "release" : "compile"} --help).`,
    );
    return 2;
  }
  if (isRelease) {
    const done = await withBundle(() => release(rest[1] ?? "dist"));
    if (typeof done === "number") return done;
    console.error(done);
    return 1;
  }
  // Not ./chat: that is the launcher that runs the source (see the file chat).
  const output = rest[1] ?? "dist/chat";
  const dir = output.replace(/[\\/]?[^\\/]*$/, "");
  if (dir !== "") await Deno.mkdir(dir, { recursive: true });
  const error = await withBundle(() => compile(output));
  if (error) {
    console.error(error);
    return 1;
  }
  console.log(`Built ${executable(output)} (chat ${denoJson.version}, ${Deno.build.target})`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await build(Deno.args));
}
