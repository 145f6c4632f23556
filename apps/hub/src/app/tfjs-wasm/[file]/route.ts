import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { tfjsWasmDir } from "../../../server/tfjsWasmDir.js";

export const dynamic = "force-dynamic";

/** The TensorFlow.js wasm binaries, served from the installed package (no CDN: the hub works offline). */
const FILES = new Set([
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
]);

export async function GET(_req: Request, { params }: { params: Promise<{ file: string }> }): Promise<Response> {
  const { file } = await params;
  if (!FILES.has(file)) return new Response("not found", { status: 404 });
  const bytes = await readFile(join(tfjsWasmDir(), file));
  return new Response(new Uint8Array(bytes), {
    headers: { "Content-Type": "application/wasm", "Cache-Control": "public, max-age=86400" },
  });
}
