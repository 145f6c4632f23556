import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { FormatError } from "@lowrank/formats";
import { pathExists as exists } from "@lowrank/formats/node";

export type InputKind = "peft" | "hf-model" | "gguf" | "safetensors";

/**
 * What PATH is: a PEFT folder (adapter_config.json / adapter_model.*), a Hugging Face model folder
 * (config.json), a GGUF file (`.gguf`, or magic `GGUF`) or a safetensors file (`.safetensors`, or
 * a header length then `{`; kohya is told apart later, by its keys). A file named for its format is
 * left to that reader, so a broken one fails with the reader's own code (`HeaderTooLarge`...), not
 * `UnknownFormat`. `IoError` when PATH cannot be read, `UnknownFormat` when it is none of these.
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
  const head = new Uint8Array(Math.min(info.size, SNIFF_BYTES));
  const handle = await open(p, "r");
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return "gguf";
  if (looksLikeSafetensors(head, info.size)) return "safetensors";
  // A name that says what the file is hands it to that reader, whose own error code (HeaderTooLarge,
  // InvalidGguf...) then says what is wrong.
  if (p.endsWith(".gguf")) return "gguf";
  if (p.endsWith(".safetensors")) return "safetensors";
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

const SNIFF_BYTES = 4096;

/**
 * safetensors as the reference reads it: an 8-byte little-endian header length that fits in the
 * file, then a JSON header whose first non-whitespace byte (JSON whitespace: space, tab, CR, LF) is `{`.
 */
function looksLikeSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
  if (n === 0n || n > BigInt(size - 8)) return false;
  const end = Math.min(head.length, 8 + Number(n));
  for (let i = 8; i < end; i++) {
    const c = head[i];
    if (c === 0x7b) return true;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
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
