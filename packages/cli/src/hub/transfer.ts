import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import cliProgress from "cli-progress";
import { CliError } from "../errors.js";
import type { CliIO } from "../output.js";

/** One progress bar per transfer on stderr when it is a terminal; nothing otherwise. */
export function progressBar(io: CliIO, label: string, total: number): { update(n: number): void; stop(): void } {
  if ((io.stderr as { isTTY?: boolean }).isTTY !== true) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} {bar} {percentage}% | {value}/{total} bytes`, stream: io.stderr as never, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Streams one file to `PUT /api/uploads?sha256=...` (the hub checks the digest and the length). */
export async function uploadFile(
  io: CliIO,
  hub: { url: string; token?: string },
  file: string,
): Promise<{ sha256: string; size: number }> {
  const { size } = await stat(file);
  const sha256 = await sha256File(file);
  const bar = progressBar(io, `upload ${path.basename(file)}`, size);
  let sent = 0;
  const source = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
  const counted = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        bar.update(sent);
        controller.enqueue(chunk);
      },
    }),
  );
  let response: Response;
  try {
    response = await fetch(`${hub.url}/api/uploads?sha256=${sha256}`, {
      method: "PUT",
      headers: { "content-length": String(size), ...(hub.token ? { authorization: `Bearer ${hub.token}` } : {}) },
      body: counted,
      // @ts-expect-error Node's fetch needs duplex for a streamed body; the DOM types lack it.
      duplex: "half",
    });
  } finally {
    bar.stop();
  }
  const body = (await response.json().catch(() => ({}))) as {
    sha256?: string;
    size?: number;
    error?: { code?: string; message?: string };
  };
  if (response.status !== 201) {
    const hint = response.status === 401 ? " (run lowrank login --hub URL)" : "";
    throw new CliError(
      `upload ${path.basename(file)}: ${body.error?.message ?? `HTTP ${response.status}`}${hint}`,
      response.status === 401 ? "Unauthorized" : response.status === 413 ? "BadInput" : "TransferFailed",
    );
  }
  if (body.sha256 !== sha256)
    throw new CliError(`upload ${file}: the hub stored sha256 ${body.sha256}, expected ${sha256}`, "DigestMismatch");
  return { sha256, size };
}

/**
 * Downloads `url` to `target` through a temporary file, checking the sha256 while it streams; the
 * file appears only when every byte matched.
 */
export async function downloadFile(
  io: CliIO,
  url: string,
  target: string,
  expected: { sha256: string; size: number },
): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) {
    throw new CliError(
      `download ${url}: HTTP ${response.status} ${response.headers.get("x-error-code") ?? ""}`.trim(),
      "TransferFailed",
    );
  }
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.part`;
  const file = await open(tmp, "w");
  const hash = createHash("sha256");
  const bar = progressBar(io, `pull ${path.basename(target)}`, expected.size);
  let size = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.byteLength;
      bar.update(size);
      await file.write(chunk);
    }
    await file.close();
  } catch (error) {
    await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw new CliError(`download ${url}: ${(error as Error).message}`, "TransferFailed");
  } finally {
    bar.stop();
  }
  const found = hash.digest("hex");
  if (found !== expected.sha256 || size !== expected.size) {
    await rm(tmp, { force: true });
    throw new CliError(
      `download ${path.basename(target)}: expected sha256 ${expected.sha256} (${expected.size} bytes), found ${found} (${size} bytes)`,
      "DigestMismatch",
    );
  }
  await rename(tmp, target);
}
