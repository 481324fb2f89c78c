/**
 * `chat identity`: the identities `chat client` keeps (one key per server and name), listed,
 * exported to move to another machine, and imported there.
 *
 * @module
 */
import { parseCommandLine, UsageError } from "./cli.ts";
import { formatAddress } from "../net/address.ts";
import { parseServerAddress, usernameProblem } from "../client/input.ts";
import {
  configDir,
  displayPath,
  IdentityFileError,
  identityPath,
  identityText,
  readIdentityFile,
  writeIdentityFile,
} from "../client/identity_file.ts";

/** Usage line of `chat identity`. */
export const IDENTITY_USAGE =
  "Usage: chat identity list | export NAME HOST[:PORT] [FILE] | import FILE";

/** Help text of `chat identity`: one screen; README.md has the rest. */
export const IDENTITY_HELP = `${IDENTITY_USAGE}

The client makes a key the first time you register a name on a server that
offers owned names, and proves it at each registration after that. Keys are
kept one per server and name under $XDG_CONFIG_HOME/chat (or ~/.config/chat),
readable by you only.

Commands:
  list                       The identities kept here, with their files
  export NAME HOST[:PORT] [FILE]
                             Writes that identity to FILE (made readable by you
                             only; it must not exist) or to standard output
  import FILE                Keeps the identity in FILE here, for its server
                             and name, so that chat client uses it
Options:
  --port PORT   The server's port, for export (default 5500)
  --force       With import: replace a different key kept for that name
  -h, --help    Show this help

On the other machine, instead of importing: chat client --identity FILE ...
Anyone with the file can use your name: keep it as safe as a password.
Exit codes: 0 done, 1 failed (one sentence says why), 2 usage error.
More (moving machines, a lost key): README.md, "Identities".
`;

const OPTIONS = {
  port: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Entry point of `chat identity`: returns the process exit code. */
export async function identityMain(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandLine(args, OPTIONS, IDENTITY_USAGE);
  if (v.help) {
    console.log(IDENTITY_HELP.trimEnd());
    return 0;
  }
  const [command, ...rest] = positionals;
  try {
    switch (command) {
      case "list":
        if (rest.length > 0) throw unexpected(rest[0]!);
        return await list();
      case "export":
        return await exportIdentity(rest, v.port as string | undefined);
      case "import":
        if (rest.length !== 1) {
          throw new UsageError(
            rest.length === 0
              ? "Missing FILE: the identity file to import."
              : unexpectedText(rest[1]!),
            IDENTITY_USAGE,
          );
        }
        return await importIdentity(rest[0]!, v.force === true);
      case undefined:
        throw new UsageError('Missing command: use "list", "export" or "import".', IDENTITY_USAGE);
      default:
        throw new UsageError(
          `Unknown command "${command}": use "list", "export" or "import".`,
          IDENTITY_USAGE,
        );
    }
  } catch (error) {
    if (!(error instanceof IdentityFileError)) throw error;
    console.error(error.message);
    return 1;
  }
}

function unexpectedText(arg: string): string {
  return `Unexpected argument "${arg}".`;
}

function unexpected(arg: string): UsageError {
  return new UsageError(unexpectedText(arg), IDENTITY_USAGE);
}

function noConfigDir(): IdentityFileError {
  return new IdentityFileError("No config directory is known: set XDG_CONFIG_HOME or HOME.");
}

/** Every identity file under the config directory's `identities` folder, sorted. */
async function identityFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const root = `${dir}/identities`;
  try {
    for await (const server of Deno.readDir(root)) {
      if (!server.isDirectory) continue;
      for await (const file of Deno.readDir(`${root}/${server.name}`)) {
        if (file.isFile && file.name.endsWith(".json")) {
          files.push(`${root}/${server.name}/${file.name}`);
        }
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}

/** `chat identity list`: one line per identity (a file that cannot be read says so). */
async function list(): Promise<number> {
  const dir = configDir();
  if (dir === undefined) throw noConfigDir();
  const files = await identityFiles(dir);
  if (files.length === 0) {
    console.log(`No identities yet in "${displayPath(dir)}".`);
    return 0;
  }
  let failed = 0;
  for (const path of files) {
    try {
      const loaded = await readIdentityFile(path);
      if (loaded === null) continue;
      const { name, server, created } = loaded.record;
      console.log(`${name} on ${server}, made ${created.slice(0, 10)}: ${displayPath(path)}`);
    } catch (error) {
      failed++;
      console.error(error instanceof Error ? error.message : String(error));
    }
  }
  return failed === 0 ? 0 : 1;
}

/** `chat identity export NAME HOST[:PORT] [FILE]`. */
async function exportIdentity(args: string[], portOption: string | undefined): Promise<number> {
  const [name, address, file, extra] = args;
  if (name === undefined || address === undefined) {
    throw new UsageError(
      "Missing NAME or HOST: e.g. chat identity export alice 127.0.0.1.",
      IDENTITY_USAGE,
    );
  }
  if (extra !== undefined) throw unexpected(extra);
  const problem = usernameProblem(name);
  if (problem !== null) throw new UsageError(problem, IDENTITY_USAGE);
  const parsed = parseServerAddress(address);
  if ("error" in parsed) throw new UsageError(parsed.error, IDENTITY_USAGE);
  let port = parsed.port ?? 5500;
  if (portOption !== undefined) {
    port = Number(portOption);
    if (!/^\d{1,5}$/.test(portOption) || port < 1 || port > 65535) {
      throw new UsageError(
        `Invalid port "${portOption}": give a number from 1 to 65535.`,
        IDENTITY_USAGE,
      );
    }
  }
  const server = formatAddress(parsed.host, port);
  const path = identityPath(server, name);
  if (path === undefined) throw noConfigDir();
  const loaded = await readIdentityFile(path);
  if (loaded === null) {
    throw new IdentityFileError(
      `No identity for "${name}" on "${server}" here ("${displayPath(path)}" does not exist): ` +
        `chat identity list shows those there are.`,
    );
  }
  if (file === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(identityText(loaded.record)));
    return 0;
  }
  try {
    await writeIdentityFile(file, loaded.record);
  } catch (error) {
    if (error instanceof IdentityFileError && /exists already/.test(error.message)) {
      throw new IdentityFileError(`File "${file}" exists already: give a new file name.`);
    }
    throw error;
  }
  console.error(`Wrote ${name} on ${server} to "${file}": keep it as safe as a password.`);
  return 0;
}

/** `chat identity import FILE [--force]`. */
async function importIdentity(file: string, force: boolean): Promise<number> {
  const loaded = await readIdentityFile(file);
  if (loaded === null) throw new IdentityFileError(`File "${file}" does not exist.`);
  const { name, server } = loaded.record;
  if (usernameProblem(name) !== null) {
    throw new IdentityFileError(`Identity file "${file}" names "${name}", which is no username.`);
  }
  const path = identityPath(server, name);
  if (path === undefined) throw noConfigDir();
  const there = await readIdentityFile(path).catch((error) => {
    if (force) return null; // an unreadable file is replaced when asked to
    throw error;
  });
  if (there !== null && there.record.publicKey === loaded.record.publicKey) {
    console.error(`${name} on ${server} is kept here already, with this key: nothing to do.`);
    return 0;
  }
  if (there !== null && !force) {
    throw new IdentityFileError(
      `A different key for ${name} on ${server} is kept here already ("${displayPath(path)}"): ` +
        `it was not replaced; add --force to replace it (the old key is then lost).`,
    );
  }
  await writeIdentityFile(path, loaded.record, force);
  console.error(`Imported ${name} on ${server}: chat client ${name} uses it from now on.`);
  return 0;
}
