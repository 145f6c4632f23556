import { adapters, adapterVersions, and, type Base, bases, eq, versionFiles } from "@lowrank/db";
import {
  adapterDigest,
  type BaseManifest,
  checkAdapterAgainstBase,
  ggufHeadCounts,
  isFormatError,
  MODEL_CARD_FILE,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  type PeftAdapter,
  parseManifest,
  parseModelCard,
  peftModelCard,
  pickleRefusedMessage,
  readAdapterFiles,
  serializeModelCard,
  writePeftAdapter,
} from "@lowrank/formats";
import { TRPCError } from "@trpc/server";
import type { Session } from "../trpc.js";
import type { HubServices } from "./HubServices.js";
import type { PublishInput } from "./schemas.js";
import { adapterSpectrum } from "./spectrum.js";

const PICKLE = /\.(bin|pt|pth|pkl|pickle|ckpt)$/i;
const MAX_CARD_BYTES = 256 * 1024;

export interface PublishedVersion {
  owner: string;
  name: string;
  version: string;
  digest: string;
  format: "peft" | "gguf" | "kohya";
  files: { path: string; sha256: string; size: number; role: string }[];
  warnings: string[];
}

const TASKS: Record<string, string> = {
  CAUSAL_LM: "text-generation",
  SEQ_CLS: "text-classification",
  TOKEN_CLS: "token-classification",
  SEQ_2_SEQ_LM: "text2text-generation",
  QUESTION_ANS: "question-answering",
  FEATURE_EXTRACTION: "feature-extraction",
};

const bad = (message: string, cause?: unknown) => new TRPCError({ code: "BAD_REQUEST", message, cause });

/**
 * Publishes one immutable version from files already in the blob store: reads them, refuses pickle,
 * reads the PEFT folder (or converts a GGUF / kohya file to PEFT, kept beside the original), checks
 * every module against the base's manifest, then writes the adapter, the version, its files and its
 * search entry in one transaction. On any failure, blobs this call wrote or that only it referenced
 * are deleted again, so a refused publish leaves no row and no blob behind.
 */
export async function publishVersion(
  hub: HubServices,
  session: Session,
  input: PublishInput,
): Promise<PublishedVersion> {
  const owner = input.owner ?? session.user.username ?? "";
  const { db } = hub.database;
  const touched = new Set(input.files.map((f) => f.sha256));
  try {
    if (owner !== session.user.username && session.user.role !== "admin") {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `publish: you are signed in as ${session.user.username}; you can publish under ${session.user.username}/..., not ${owner}/...`,
      });
    }
    const [base] = await db.select().from(bases).where(eq(bases.name, input.base));
    if (!base)
      throw new TRPCError({
        code: "NOT_FOUND",
        message: `base ${input.base}: not registered on this hub; list bases with bases.list`,
      });
    const bytes: Record<string, Uint8Array> = {};
    for (const f of input.files) {
      const stat = await hub.blobs.stat(f.sha256);
      if (!stat || stat.size !== f.size) {
        throw bad(
          `${f.path}: expected an uploaded blob ${f.sha256} of ${f.size} bytes, found ${stat ? `${stat.size} bytes` : "none"}; PUT it to /api/uploads first`,
        );
      }
      if (PICKLE.test(f.path)) throw bad(pickleRefusedMessage(f.path));
      bytes[f.path] = await hub.blobs.read(f.sha256);
    }
    const manifest = parseManifest(base.manifest);
    const read = readAdapter(bytes, base, manifest);
    const check = checkAdapterAgainstBase(read.adapter, manifest);
    if (!check.ok) {
      throw bad(
        `adapter does not fit base ${base.name} (${manifest.architecture}): ${check.mismatches.length} problem(s)\n${check.mismatches.map((m) => m.message).join("\n")}`,
      );
    }
    // The canonical PEFT files: uploaded as they are, or written by the converter.
    const peft =
      read.format === "peft"
        ? { [PEFT_CONFIG_FILE]: bytes[PEFT_CONFIG_FILE]!, [PEFT_WEIGHTS_FILE]: bytes[PEFT_WEIGHTS_FILE]! }
        : (() => {
            const w = writePeftAdapter({ ...read.adapter, modelCard: null });
            return { [PEFT_CONFIG_FILE]: w[PEFT_CONFIG_FILE]!, [PEFT_WEIGHTS_FILE]: w[PEFT_WEIGHTS_FILE]! };
          })();
    const digest = adapterDigest(peft);
    const card = buildCard(bytes[MODEL_CARD_FILE], base, input, read.adapter);
    const stored: PublishedVersion["files"] = [];
    const putBytes = async (path: string, data: Uint8Array, role: string) => {
      const blob = await hub.blobs.put(once(data));
      touched.add(blob.sha256);
      stored.push({ path, sha256: blob.sha256, size: blob.size, role });
    };
    for (const [path, data] of Object.entries(peft)) {
      const uploaded = input.files.find((f) => f.path === path);
      if (uploaded && read.format === "peft") stored.push({ ...uploaded, role: "peft" });
      else await putBytes(path, data, "peft");
    }
    if (read.format !== "peft")
      for (const f of input.files) if (f.path !== MODEL_CARD_FILE) stored.push({ ...f, role: "original" });
    await putBytes(MODEL_CARD_FILE, new TextEncoder().encode(card.text), "card");

    const config = read.adapter.config;
    const firstModule = Object.values(read.adapter.modules)[0];
    const targetModules = Array.isArray(config.target_modules)
      ? config.target_modules
      : Object.keys(read.adapter.modules).length > 0
        ? Object.keys(read.adapter.modules)
        : [String(config.target_modules)];
    const sizeBytes = stored.reduce((n, f) => n + f.size, 0);
    const spectrum = adapterSpectrum(read.adapter);

    await db.transaction(async (tx) => {
      await tx
        .insert(adapters)
        .values({
          owner,
          name: input.name,
          ownerId: session.user.id,
          baseId: base.id,
          baseModel: base.name,
          baseDigest: base.manifestDigest,
        })
        .onConflictDoNothing({ target: [adapters.owner, adapters.name] });
      const [adapter] = await tx
        .select()
        .from(adapters)
        .where(and(eq(adapters.owner, owner), eq(adapters.name, input.name)));
      if (!adapter) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "adapter row vanished" });
      if (adapter.ownerId !== session.user.id && session.user.role !== "admin") {
        throw new TRPCError({ code: "FORBIDDEN", message: `${owner}/${input.name} belongs to another user` });
      }
      if (adapter.baseId !== base.id) {
        throw bad(
          `${owner}/${input.name} is an adapter for ${adapter.baseModel}; publish a ${base.name} adapter under another name`,
        );
      }
      const [version] = await tx
        .insert(adapterVersions)
        .values({
          adapterId: adapter.id,
          version: input.version,
          digest,
          rank: config.r,
          alpha: config.lora_alpha,
          targetModules,
          dtype: firstModule?.A.dtype ?? "F32",
          format: read.format,
          sizeBytes,
          spectrum,
          publisherId: session.user.id,
        })
        .returning({ id: adapterVersions.id });
      await tx.insert(versionFiles).values(stored.map((f) => ({ versionId: version!.id, ...f })));
      await tx
        .update(adapters)
        .set({
          description: input.description ?? card.description ?? adapter.description,
          task: card.task,
          tags: card.tags,
          tagText: card.tags.join(" "),
          license: card.license,
          card: card.body,
          cardData: card.data,
          latestVersionId: version!.id,
          latestRank: config.r,
          latestFormat: read.format,
        })
        .where(eq(adapters.id, adapter.id));
    });
    touched.clear(); // committed: every blob is referenced now
    return {
      owner,
      name: input.name,
      version: input.version,
      digest,
      format: read.format,
      files: stored,
      warnings: [...read.warnings, ...check.warnings],
    };
  } catch (error) {
    await dropUnreferenced(hub, touched);
    throw toPublishError(error, owner, input);
  }
}

function readAdapter(
  bytes: Record<string, Uint8Array>,
  base: Base,
  manifest: BaseManifest,
): { adapter: PeftAdapter; format: "peft" | "gguf" | "kohya"; warnings: string[] } {
  try {
    return readAdapterFiles(bytes, {
      baseModel: base.name,
      moduleNames: Object.keys(manifest.modules),
      ...ggufHeadCounts(base.config),
    });
  } catch (error) {
    if (isFormatError(error)) throw bad(error.message, error);
    throw error;
  }
}

interface Card {
  text: string;
  body: string;
  data: Record<string, unknown>;
  tags: string[];
  license: string | null;
  task: string | null;
  description: string | null;
}

/** The version's README.md: the uploaded card (YAML front matter parsed with `yaml`) with HF's adapter fields filled in. */
function buildCard(readme: Uint8Array | undefined, base: Base, input: PublishInput, adapter: PeftAdapter): Card {
  if (readme && readme.byteLength > MAX_CARD_BYTES)
    throw bad(`${MODEL_CARD_FILE}: expected at most ${MAX_CARD_BYTES} bytes, found ${readme.byteLength}`);
  let existing = null;
  if (readme) {
    try {
      existing = parseModelCard(readme);
    } catch (error) {
      throw bad(`${MODEL_CARD_FILE}: ${(error as Error).message}`);
    }
  }
  const card = peftModelCard(
    { baseModel: base.name, license: input.license ?? base.license ?? undefined, tags: input.tags, title: input.name },
    existing,
  );
  const data = card.data ?? {};
  data.base_model_relation ??= "adapter";
  const task =
    input.task ??
    (typeof data.pipeline_tag === "string" ? data.pipeline_tag : (TASKS[adapter.config.task_type ?? ""] ?? null));
  if (task) data.pipeline_tag = task;
  const tags = [
    ...new Set((Array.isArray(data.tags) ? data.tags : []).map((t) => String(t).toLowerCase().slice(0, 64))),
  ].slice(0, 32);
  data.tags = tags;
  const license = typeof data.license === "string" ? data.license.slice(0, 64) : null;
  const firstLine = card.body.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#"));
  return {
    text: serializeModelCard({ data, body: card.body }),
    body: card.body,
    data,
    tags,
    license,
    task,
    description: firstLine ? firstLine.trim().slice(0, 500) : null,
  };
}

async function* once(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}

/** Deletes those of `digests` that no version file references (blobs of a refused publish). */
export async function dropUnreferenced(hub: HubServices, digests: Iterable<string>): Promise<void> {
  for (const sha256 of digests) {
    const [ref] = await hub.database.db
      .select({ p: versionFiles.path })
      .from(versionFiles)
      .where(eq(versionFiles.sha256, sha256))
      .limit(1);
    if (!ref) await hub.blobs.delete(sha256).catch(() => {});
  }
}

function toPublishError(error: unknown, owner: string, input: PublishInput): unknown {
  if (error instanceof TRPCError) return error;
  const e = error as {
    code?: string;
    constraint_name?: string;
    constraint?: string;
    message?: string;
    cause?: unknown;
  };
  const pg = (e.code ? e : (e.cause as typeof e | undefined)) ?? e;
  if (pg.code === "23505") {
    const which = String(pg.constraint_name ?? pg.constraint ?? pg.message ?? "");
    return new TRPCError({
      code: "CONFLICT",
      message: which.includes("digest")
        ? `these files are already published (same digest) as another version; versions never change, publish different files`
        : `${owner}/${input.name}@${input.version} already exists; versions never change: choose a new version label`,
      cause: error,
    });
  }
  return error;
}

export type { BaseManifest };
