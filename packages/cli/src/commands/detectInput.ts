import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { FormatError } from "@lowrank/formats";

export type InputKind = "peft" | "hf-model" | "gguf" | "safetensors";

/** Whether anything (file or folder) is at `p`. */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * What PATH is: a PEFT folder (adapter_config.json / adapter_model.*), a Hugging Face model folder
 * (config.json), a GGUF file (magic `GGUF`) or a safetensors file (kohya is told apart later, by
 * its keys). `IoError` when PATH cannot be read, `UnknownFormat` when it is none of these.
 */
export async function detectInput(p: string): Promise<InputKind> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(p);
  } catch (cause) {
    throw new FormatError("IoError", `${p}: expected a file or folder, found none (${(cause as Error).message})`, {
      cause,
    });
  }
  if (info.isDirectory()) {
    for (const f of ["adapter_config.json", "adapter_model.safetensors", "adapter_model.bin"])
      if (await exists(path.join(p, f))) return "peft";
    if (await exists(path.join(p, "config.json"))) return "hf-model";
    throw new FormatError(
      "UnknownFormat",
      `${p}: expected a PEFT adapter folder (adapter_config.json) or a model folder (config.json), found neither`,
    );
  }
  const head = new Uint8Array(9);
  const handle = await open(p, "r");
  try {
    await handle.read(head, 0, 9, 0);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return "gguf";
  // safetensors: an 8-byte little-endian header length, then the JSON header's '{'
  const n = new DataView(head.buffer).getBigUint64(0, true);
  if (info.size >= 9 && n > 0n && n < BigInt(info.size) && head[8] === 0x7b) return "safetensors";
  if (p.endsWith(".bin") || p.endsWith(".pt") || p.endsWith(".pth") || p.endsWith(".ckpt")) {
    throw new FormatError(
      "PickleRefused",
      `${p}: expected safetensors or GGUF, found a PyTorch pickle (it can run code when loaded; convert it with safetensors.torch.save_file where you trust it)`,
    );
  }
  throw new FormatError(
    "UnknownFormat",
    `${p}: expected a safetensors or GGUF file, found neither (first bytes ${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")})`,
  );
}

/** Reads a whole file as bytes, with `IoError` on failure. */
export async function readBytes(p: string): Promise<Uint8Array> {
  try {
    const b = await readFile(p);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (cause) {
    throw new FormatError("IoError", `read ${p}: ${(cause as Error).message}`, { cause });
  }
}
