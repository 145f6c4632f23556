import { z } from "zod";

const tokenIds = z.array(z.number().int().min(0)).min(1);
const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish();

/** Sampling and length fields shared by both endpoints (OpenAI's names, plus vLLM's `top_k`). */
const sampling = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(4096).nullish(),
  max_completion_tokens: z.number().int().min(1).max(4096).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.literal(1).nullish(),
  user: z.string().nullish(),
  /** Multiplies the adapter's alpha/r (lowrank extension; default 1). */
  lora_scale: z.number().min(-16).max(16).nullish(),
};

/** `POST /v1/completions`: a prompt as text, token ids, or a list of either (one choice each). */
export const completionRequestSchema = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(64), tokenIds, z.array(tokenIds).min(1).max(64)]),
  echo: z.literal(false).nullish(),
  logprobs: z.null().optional(),
  best_of: z.literal(1).nullish(),
  suffix: z.null().optional(),
});

const message = z.object({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z.union([z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() })).min(1)]),
  name: z.string().optional(),
});

/** `POST /v1/chat/completions`: messages rendered by the base's chat template. */
export const chatRequestSchema = z.object({
  ...sampling,
  messages: z.array(message).min(1).max(256),
  logprobs: z.literal(false).nullish(),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** The first problem of a failed parse as `param` (OpenAI's field path) and a readable message. */
export function describeIssues(error: z.ZodError): { param: string | null; message: string } {
  const first = error.issues[0];
  const path = (issue: z.core.$ZodIssue) => issue.path.map(String).join(".");
  return {
    param: first ? path(first) || null : null,
    message: error.issues
      .slice(0, 5)
      .map((i) => `${path(i) || "body"}: ${i.message}`)
      .join("; "),
  };
}
