import { RuntimeError } from "../backend/errors.js";
import type { KvDecoder } from "./KvDecoder.js";
import type { GenerationRequest } from "./types.js";

/** The positions a request keeps in its KV cache (prompt + new tokens, at most the context) and their bytes. */
export function reservation(decoder: KvDecoder, promptLength: number, maxNewTokens: number) {
  const positions = Math.min(promptLength + maxNewTokens, decoder.maxPositions);
  return { positions, reserved: positions * decoder.kvBytesPerToken };
}

/**
 * A generation request's scale, prompt and token limit checked against the base it runs on, and the KV
 * bytes it reserves (`InvalidArgument` naming the field otherwise, or when one request alone exceeds
 * the scheduler's whole budget of `kvBytes`).
 */
export function checkRequest(
  req: GenerationRequest,
  decoder: KvDecoder,
  kvBytes: number,
): { scale: number; positions: number; reserved: number } {
  const scale = req.scale ?? 1;
  if (!Number.isFinite(scale))
    throw new RuntimeError("InvalidArgument", `scale: expected a finite number, found ${scale}`);
  const n = req.promptIds.length;
  // A prompt may fill the context: its one token comes from the prefill, then the sequence ends ("context").
  if (n < 1 || n > decoder.maxPositions)
    throw new RuntimeError("InvalidArgument", `prompt: expected 1 to ${decoder.maxPositions} tokens, found ${n}`);
  const bad = req.promptIds.find((t) => !(Number.isInteger(t) && t >= 0 && t < decoder.vocabSize));
  if (bad !== undefined)
    throw new RuntimeError("InvalidArgument", `prompt: expected token ids in [0, ${decoder.vocabSize}), found ${bad}`);
  if (!(Number.isInteger(req.maxNewTokens) && req.maxNewTokens >= 1))
    throw new RuntimeError("InvalidArgument", `max_new_tokens: expected an integer >= 1, found ${req.maxNewTokens}`);
  const { positions, reserved } = reservation(decoder, n, req.maxNewTokens);
  if (reserved > kvBytes)
    throw new RuntimeError(
      "InvalidArgument",
      `prompt + max_new_tokens: expected at most ${Math.floor(kvBytes / decoder.kvBytesPerToken)} positions for the KV budget, found ${positions}`,
    );
  return { scale, positions, reserved };
}
