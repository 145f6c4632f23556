import { createServer } from "node:net";
import { NEXT_BIN } from "./buildHub.js";
import { childEnv, type GroupProcess, spawnGroup } from "./processGroup.js";

export interface RunningHub {
  /** `http://127.0.0.1:PORT` */
  url: string;
  process: GroupProcess;
}

/** Where the hub keeps its data: a PostgreSQL URL, or a PGlite data folder. */
export type HubDatabase = { databaseUrl: string } | { dataDir: string };

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `next start` on a free loopback port in a built hub folder (see `buildHub`), in its own process
 * group. Resolves once `GET /` answers 200; the database is opened later, by the first tRPC call.
 * @param track receives each started process at once, so the caller can stop it even if this throws.
 */
export async function startHub(
  dir: string,
  database: HubDatabase,
  track: (process: GroupProcess) => void,
  timeoutMs = 60_000,
): Promise<RunningHub> {
  const dbEnv: Record<string, string> =
    "databaseUrl" in database ? { DATABASE_URL: database.databaseUrl } : { LOWRANK_DATA_DIR: database.dataDir };
  const drop = "databaseUrl" in database ? ["LOWRANK_DATA_DIR"] : ["DATABASE_URL"];
  // Another process may take the port between freePort() and Next's bind: try a new one then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = spawnGroup(
      process.execPath,
      [NEXT_BIN, "start", "--port", String(port), "--hostname", "127.0.0.1"],
      {
        cwd: dir,
        env: childEnv(
          {
            NEXT_TELEMETRY_DISABLED: "1",
            // Production needs a cookie secret; auth checks request origins against the public URL.
            LOWRANK_AUTH_SECRET: "e2e-secret-that-is-long-enough-0123456789",
            LOWRANK_PUBLIC_URL: url,
            ...dbEnv,
          },
          drop,
        ),
      },
    );
    track(server);
    let exited: number | string | undefined;
    void server.exited.then((status) => {
      exited = status;
    });
    const deadline = Date.now() + timeoutMs;
    while (exited === undefined && Date.now() < deadline) {
      const status = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
        (response) => response.status,
        () => undefined,
      );
      if (status === 200) return { url, process: server };
      await sleep(100);
    }
    await server.stop();
    if (exited !== undefined && attempt < 3 && server.output().includes("EADDRINUSE")) continue;
    const found = exited === undefined ? `no answer after ${timeoutMs} ms` : `exit status ${exited}`;
    throw new Error(`expected \`next start\` to answer GET ${url} with 200, found ${found}:\n${server.output()}`);
  }
}
