/**
 * safetensors reader throughput and header cost on a 100 MB file written to a temp dir:
 * read + materialize every tensor as float32 vs a plain `fs.readFile` of the same file, and the
 * cost of inspecting the file through the lazy file-handle reader (length + header only).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  encodeFromFloat32,
  parseSafetensorsHeader,
  readHeaderLength,
  type TensorInput,
  toFloat32,
} from "@lowrank/formats";
import { openSafetensors, readSafetensorsFile, writeSafetensorsFile } from "@lowrank/formats/node";
import { defineSuite } from "../harness.js";

const MB = 1e6;
const FILE_MB = 100;
let dir = "";

/** 100 MB: 24 F32 tensors of 1M elements (4 MB each) + 2 BF16 tensors of 2M elements (4 MB each). */
function makeTensors(): Record<string, TensorInput> {
  const tensors: Record<string, TensorInput> = {};
  const values = new Float32Array(1 << 20);
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i) * 0.02;
  for (let layer = 0; layer < 12; layer++) {
    for (const part of ["lora_A", "lora_B"]) {
      tensors[`base_model.model.h.${layer}.attn.c_attn.${part}.weight`] = {
        dtype: "F32",
        shape: [1024, 1024],
        data: values,
      };
    }
  }
  const half = encodeFromFloat32("BF16", new Float32Array(2 << 20).fill(0.5));
  tensors["wte.weight"] = { dtype: "BF16", shape: [2048, 1024], data: half };
  tensors["wpe.weight"] = { dtype: "BF16", shape: [2048, 1024], data: half };
  return tensors;
}

async function materializeAll(file: string, copy: boolean): Promise<number> {
  const st = await readSafetensorsFile(file);
  let n = 0;
  for (const name of st.names()) n += toFloat32(st.getTensor(name), { copy }).length;
  return n;
}

/** Each tensor read into its own buffer by the lazy reader: owned arrays without a second copy. */
async function materializeOwned(file: string): Promise<number> {
  const st = await openSafetensors(file);
  try {
    let n = 0;
    for (const name of st.names()) n += toFloat32(await st.readTensor(name), { copy: false }).length;
    return n;
  } finally {
    await st.close();
  }
}

/** A header the size of a large checkpoint's: 50,000 small tensors (every name distinct). */
const BIG_HEADER_TENSORS = 50_000;
const bigHeaderText = (() => {
  const entries: Record<string, unknown> = {};
  for (let i = 0; i < BIG_HEADER_TENSORS; i++)
    entries[`model.layers.${i}.self_attn.q_proj.weight`] = {
      dtype: "F32",
      shape: [2, 2],
      data_offsets: [i * 16, i * 16 + 16],
    };
  return JSON.stringify(entries);
})();
const bigHeader = new TextEncoder().encode(bigHeaderText);

export default defineSuite({
  name: "safetensors",
  dispose: async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
  groups: async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lowrank-bench-st-"));
    const file = path.join(dir, "model.safetensors");
    await writeSafetensorsFile(file, makeTensors(), { format: "pt" });
    const bytes = (await readFile(file)).byteLength;
    const work = { amount: bytes / MB, unit: "MB/s" as const };
    const head = new Uint8Array(await readFile(file)).subarray(0, 64 * 1024);
    const headerBytes = head.subarray(8, 8 + readHeaderLength(head, bytes));
    return [
      {
        name: `read ${FILE_MB} MB as float32`,
        goal: "≤ 1.25x of readFile (≥ 0.8x its MB/s)",
        time: 1500,
        iterations: 5,
        cases: [
          { name: "fs.readFile", baseline: true, work, fn: () => readFile(file) },
          { name: "read + toFloat32 (views)", work, fn: () => materializeAll(file, false) },
          { name: "read + toFloat32 (copies)", work, fn: () => materializeAll(file, true) },
          { name: "lazy readTensor each + toFloat32 (own buffers)", work, fn: () => materializeOwned(file) },
        ],
      },
      {
        name: "inspect header",
        goal: "openSafetensors < 1 ms",
        time: 300,
        cases: [
          {
            name: "openSafetensors + close",
            baseline: true,
            fn: async () => {
              const st = await openSafetensors(file);
              await st.close();
            },
          },
          {
            name: "parseSafetensorsHeader (bytes in memory)",
            fn: () => parseSafetensorsHeader(headerBytes),
          },
        ],
      },
      {
        name: `parse a ${BIG_HEADER_TENSORS.toLocaleString("en")}-tensor header (${(bigHeader.length / MB).toFixed(1)} MB)`,
        goal: "the strict parse (exact u64, duplicate keys refused) next to V8's JSON.parse",
        time: 1500,
        iterations: 6,
        cases: [
          { name: "JSON.parse of the decoded text (no checks)", baseline: true, fn: () => JSON.parse(bigHeaderText) },
          { name: "parseSafetensorsHeader", fn: () => parseSafetensorsHeader(bigHeader) },
        ],
      },
    ];
  },
});
