import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TestServiceError } from "./TestServiceError.js";

const run = promisify(execFile);

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth, no password). */
  url: string;
  port: number;
  /** Stop the server and delete its cluster. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Folder holding `initdb` and `pg_ctl`: `$LOWRANK_PG_BIN`, else the newest `/usr/lib/postgresql/<n>/bin`.
 * Returns undefined when none is installed.
 */
export function findPostgresBin(): string | undefined {
  const fromEnv = process.env.LOWRANK_PG_BIN;
  if (fromEnv) return hasTools(fromEnv) ? fromEnv : undefined;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, "bin");
    if (hasTools(bin)) return bin;
  }
  return undefined;
}

function hasTools(bin: string): boolean {
  return existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"));
}

/** Why PostgreSQL cannot start here, or undefined when it can. */
export function postgresMissingReason(): string | undefined {
  return findPostgresBin()
    ? undefined
    : "PostgreSQL server binaries not found (apt-get install postgresql, or set LOWRANK_PG_BIN)";
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Start a throwaway PostgreSQL: a fresh cluster in a temp folder, loopback only, on a free port,
 * fsync off, trust auth for user `postgres`. Root runs the server as the `postgres` system user
 * (PostgreSQL refuses to run as root). Resolves once the server accepts connections.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new TestServiceError(
      "BinaryMissing",
      `expected initdb and pg_ctl under $LOWRANK_PG_BIN or /usr/lib/postgresql/<version>/bin, found none`,
    );
  }
  const root = mkdtempSync(join(tmpdir(), "lowrank-pg-"));
  const data = join(root, "data");
  const log = join(root, "server.log");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await run("chown", ["postgres:postgres", root]);
    chmodSync(root, 0o700);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args);

  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await pg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await pg("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
    // Two tries: another process may grab the port between freePort() and the server's bind.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} -c fsync=off -c full_page_writes=off`;
      try {
        await pg("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "30", "-o", options, "start"]);
        started = true;
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop };
      } catch (error) {
        if (attempt >= 1) throw error;
      }
    }
  } catch (cause) {
    const serverLog = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "(no server log)";
    const stderr = (cause as { stderr?: string }).stderr ?? String(cause);
    await stop();
    throw new TestServiceError(
      "StartFailed",
      `expected PostgreSQL from ${bin} to start, found an error: ${stderr.trim()}\n${serverLog}`,
      { cause },
    );
  }
}
