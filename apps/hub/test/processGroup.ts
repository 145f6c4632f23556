import { type ChildProcess, spawn } from "node:child_process";

/** A child process that leads its own process group, with the tail of its output kept for messages. */
export interface GroupProcess {
  readonly child: ChildProcess;
  /** The last few kilobytes of stdout and stderr, interleaved. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the group leader has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs` if the leader is still there. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_CHARS = 16_000;

/**
 * Spawn `command` as the leader of a new process group (`detached`), so that stopping it also stops
 * every process it started (Next forks workers). Output is piped and kept, never inherited.
 */
export function spawnGroup(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): GroupProcess {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-KEEP_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (error) => {
      keep(Buffer.from(`\nspawn failed: ${error.message}\n`));
      resolve("spawn-error");
    });
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });

  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  return {
    child,
    output: () => tail,
    exited,
    async stop(graceMs = 5_000) {
      signalGroup("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), graceMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      // Members that ignored SIGTERM (or outlived the leader) go too.
      signalGroup("SIGKILL");
      if (outcome === "late") await exited;
    },
  };
}

/** The environment of this process without the variables a child must not inherit from the test runner. */
export function childEnv(set: Record<string, string>, drop: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // vitest sets NODE_ENV=test; `next build` and `next start` choose production themselves.
  for (const key of ["NODE_ENV", ...drop]) delete env[key];
  return { ...env, ...set };
}
