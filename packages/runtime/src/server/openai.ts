import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Engine } from "../engine/Engine.js";
import { BASE_ADAPTER } from "../engine/types.js";
import { errorResponse, isRuntimeError, RuntimeError } from "../errors.js";
import type { FinishReason, GenerationScheduler } from "../generation/GenerationScheduler.js";
import { TextStream } from "../generation/TextStream.js";
import type { TextTokenizer } from "../tokenizer/loadTokenizer.js";
import { ChatTemplate } from "./chatTemplate.js";
import {
  type ChatRequest,
  type CompletionRequest,
  chatRequestSchema,
  completionRequestSchema,
  describeIssues,
} from "./openaiSchemas.js";
import { sendJson } from "./sendJson.js";

export interface OpenAiOptions {
  /** The scheduler generations run on (default: the engine's, `engine.generation`). */
  scheduler?: GenerationScheduler;
  /** Text in and out; without one, prompts must be token ids and text is the ids as `<id>`. */
  tokenizer?: TextTokenizer;
  /** The base's name in `model` (default: the engine's only base id). */
  baseModel?: string;
  /** Jinja chat template (default: the tokenizer's `chat_template`); none: chat completions answer 400. */
  chatTemplate?: string;
  /** Largest request body accepted (default 8 MiB). */
  maxBodyBytes?: number;
}

/** Handles one request when its path is an OpenAI route (returns false otherwise). */
export type OpenAiHandler = ((req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>) & {
  matches(path: string): boolean;
};

const PATHS = new Set(["/v1/models", "/v1/completions", "/v1/chat/completions"]);

interface Choice {
  text: string;
  finishReason: "stop" | "length";
  tokens: number;
}

/**
 * OpenAI-compatible routes over the generation scheduler, as vLLM and LoRAX expose them: `GET /v1/models`
 * (the base and each adapter), `POST /v1/completions` and `POST /v1/chat/completions` with `model`
 * naming the base or an adapter, `stream: true` as server-sent events, and `usage`. Bodies are checked
 * by zod schemas; errors answer OpenAI's `{error: {message, type, param, code}}`.
 */
export function openAiHandler(engine: Engine, options: OpenAiOptions): OpenAiHandler {
  const { tokenizer } = options;
  const scheduler = options.scheduler ?? engine.generation;
  const maxBody = options.maxBodyBytes ?? 8 * 2 ** 20;
  const baseModel = options.baseModel ?? engine.resolveBase();
  const templateSource = options.chatTemplate ?? tokenizer?.chatTemplate;
  const template = templateSource
    ? new ChatTemplate(templateSource, { bosToken: tokenizer?.bosToken, eosToken: tokenizer?.eosToken })
    : undefined;
  const created = Math.floor(Date.now() / 1000);
  const decode = (ids: readonly number[]) =>
    tokenizer ? tokenizer.decode(ids, { skipSpecialTokens: true }) : ids.map((i) => `<${i}>`).join("");
  const encode = (text: string): number[] => {
    if (!tokenizer) throw badRequest("prompt", "prompt: expected token ids (this server has no tokenizer), found text");
    return tokenizer.encode(text);
  };

  const resolveModel = (model: string): string => {
    if (model === baseModel || model === BASE_ADAPTER) return BASE_ADAPTER;
    if (engine.hasAdapter(model)) return model;
    throw new RuntimeError(
      "NotFound",
      `The model '${model}' does not exist: expected '${baseModel}' or a loaded adapter`,
      { field: "model" },
    );
  };

  const models = () => ({
    object: "list",
    data: [
      { id: baseModel, object: "model", created, owned_by: "lowrank", root: baseModel, parent: null },
      ...engine.adapters().map((a) => ({
        id: a.name,
        object: "model",
        created,
        owned_by: "lowrank",
        root: a.digest ?? a.name,
        parent: baseModel,
      })),
    ],
  });

  async function complete(
    kind: "text" | "chat",
    body: CompletionRequest | ChatRequest,
    prompts: number[][],
    res: ServerResponse,
    signal: AbortSignal,
  ): Promise<void> {
    const adapter = resolveModel(body.model);
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${Math.random().toString(36).slice(2, 14)}`;
    const object = kind === "chat" ? "chat.completion" : "text_completion";
    const stream = body.stream === true;
    const stops = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? (kind === "chat" ? 256 : 16);
    const sse = stream ? new SseWriter(res) : undefined;
    const chunk = (index: number, text: string, finish: string | null, first = false) =>
      kind === "chat"
        ? {
            id,
            object: "chat.completion.chunk",
            created,
            model: body.model,
            choices: [
              {
                index,
                delta: first ? { role: "assistant", content: text } : finish ? {} : { content: text },
                logprobs: null,
                finish_reason: finish,
              },
            ],
          }
        : {
            id,
            object,
            created,
            model: body.model,
            choices: [{ index, text, logprobs: null, finish_reason: finish }],
          };
    const ctl = new AbortController();
    const abort = () => ctl.abort();
    signal.addEventListener("abort", abort, { once: true });
    let choices: Choice[];
    try {
      choices = await Promise.all(
        prompts.map(async (promptIds, index) => {
          const text = new TextStream(decode, stops);
          let started = false;
          const send = (delta: string) => {
            if (!sse) return;
            if (kind === "chat" && !started) sse.event(chunk(index, "", null, true));
            started = true;
            if (delta) sse.event(chunk(index, delta, null));
          };
          const r = await scheduler.generate({
            adapter,
            scale: body.lora_scale ?? 1,
            promptIds,
            maxNewTokens: maxTokens,
            temperature: body.temperature ?? 1,
            topK: body.top_k && body.top_k > 0 ? body.top_k : undefined,
            topP: body.top_p ?? undefined,
            seed: body.seed ?? undefined,
            signal: ctl.signal,
            onToken: (token) => {
              const { delta, stopped } = text.push(token);
              send(delta);
              return stopped ? "stop" : undefined;
            },
          });
          send(text.finish());
          const finishReason = finishOf(r.finishReason);
          sse?.event(chunk(index, "", finishReason));
          return { text: text.text, finishReason, tokens: r.tokens.length };
        }),
      );
    } catch (error) {
      ctl.abort(); // the other choices of this request stop too
      if (sse?.started) {
        sse.event({ error: openAiError(error).body.error });
        sse.end();
        return;
      }
      throw error;
    } finally {
      signal.removeEventListener("abort", abort);
    }
    const promptTokens = prompts.reduce((s, p) => s + p.length, 0);
    const completionTokens = choices.reduce((s, c) => s + c.tokens, 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    if (sse) {
      if (body.stream_options?.include_usage)
        sse.event({ id, object: chunk(0, "", null).object, created, model: body.model, choices: [], usage });
      sse.done();
      return;
    }
    sendJson(res, 200, {
      id,
      object,
      created,
      model: body.model,
      choices: choices.map((c, index) =>
        kind === "chat"
          ? { index, message: { role: "assistant", content: c.text }, logprobs: null, finish_reason: c.finishReason }
          : { index, text: c.text, logprobs: null, finish_reason: c.finishReason },
      ),
      usage,
    });
  }

  const handler = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (path === "/v1/models") {
        if (req.method !== "GET") throw new RuntimeError("MethodNotAllowed", `${req.method} is not allowed on ${path}`);
        sendJson(res, 200, models());
        return;
      }
      if (req.method !== "POST") throw new RuntimeError("MethodNotAllowed", `${req.method} is not allowed on ${path}`);
      const raw = await readBody(req, maxBody);
      if (path === "/v1/completions") {
        const body = parse(completionRequestSchema, raw);
        const p = body.prompt;
        const prompts =
          typeof p === "string"
            ? [encode(p)]
            : typeof p[0] === "number"
              ? [p as number[]]
              : (p as Array<string | number[]>).map((x) => (typeof x === "string" ? encode(x) : x));
        await complete("text", body, prompts, res, signal);
      } else {
        const body = parse(chatRequestSchema, raw);
        if (!template)
          throw badRequest("messages", "chat completions: expected a base with a chat template, found none");
        const messages = body.messages.map((m) => ({
          role: m.role,
          content: typeof m.content === "string" ? m.content : m.content.map((c) => c.text).join(""),
        }));
        await complete("chat", body, [encode(template.render(messages))], res, signal);
      }
    } catch (error) {
      const { status, body } = openAiError(error);
      sendJson(res, status, body);
    }
  };
  return Object.assign(handler, { matches: (path: string) => PATHS.has(path) });
}

function finishOf(r: FinishReason): "stop" | "length" {
  return r === "eos" || r === "stop" ? "stop" : "length";
}

function badRequest(param: string | null, message: string): RuntimeError {
  return new RuntimeError("BadRequest", message, param === null ? {} : { field: param });
}

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const { param, message } = describeIssues(r.error);
  throw badRequest(param, message);
}

/**
 * OpenAI's error body for anything thrown, from the runtime's one error type: the status is the
 * code's (`HTTP_STATUS`), `param` the field at fault, and the code OpenAI's where it has one
 * (`invalid_value`, `model_not_found`), else the runtime's.
 */
export function openAiError(error: unknown): {
  status: number;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
} {
  const { status, body } = errorResponse(error);
  const param = isRuntimeError(error) ? (error.field ?? null) : null;
  const code =
    body.error.code === "BadRequest"
      ? "invalid_value"
      : body.error.code === "NotFound" && param === "model"
        ? "model_not_found"
        : body.error.code;
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  return { status, body: { error: { message: body.error.message, type, param, code } } };
}

/** Server-sent events: headers on the first event, `data: [DONE]` at the end. */
class SseWriter {
  started = false;
  constructor(private readonly res: ServerResponse) {}

  event(data: unknown): void {
    if (this.res.destroyed) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
    }
    this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (!this.started) this.event({ choices: [] });
    if (!this.res.destroyed) this.res.write("data: [DONE]\n\n");
    this.end();
  }

  end(): void {
    if (!this.res.destroyed) this.res.end();
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new RuntimeError("PayloadTooLarge", `body: expected at most ${max} bytes, found more`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw badRequest(null, `body: expected JSON, found unparseable text (${(error as Error).message})`);
  }
}
