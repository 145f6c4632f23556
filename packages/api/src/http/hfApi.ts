import { type Adapter, type AdapterVersion, adapters, downloads, eq, sql, type VersionFile } from "@lowrank/db";
import { z } from "zod";
import type { HubServices } from "../hub/HubServices.js";
import { commitOf, lookupRepo } from "../hub/repo.js";
import { slugSchema } from "../hub/schemas.js";
import { type SearchHit, searchAdapters } from "../hub/search.js";
import { CORS, errorResponse, hfError, json } from "./responses.js";

const listQuerySchema = z.object({
  search: z.string().max(200).optional(),
  author: slugSchema.optional(),
  filter: z.array(z.string().max(200)).max(8),
  pipeline_tag: z.string().max(64).optional(),
  sort: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(300).optional(),
});

const SORTS: Record<string, "downloads" | "likes" | "newest"> = {
  downloads: "downloads",
  likes: "likes",
  likes7d: "likes",
  trendingScore: "downloads",
  createdAt: "newest",
  lastModified: "newest",
};

/** `GET /api/models`: Hugging Face's model list (search, author, filter, sort, limit), paged with an absolute `Link`. */
async function listModels(hub: HubServices, url: URL): Promise<Response> {
  const query = listQuerySchema.parse({
    search: url.searchParams.get("search") ?? undefined,
    author: url.searchParams.get("author") ?? undefined,
    filter: url.searchParams.getAll("filter"),
    pipeline_tag: url.searchParams.get("pipeline_tag") ?? undefined,
    sort: url.searchParams.get("sort") ?? undefined,
    limit: url.searchParams.get("limit") ?? undefined,
    cursor: url.searchParams.get("cursor") ?? undefined,
  });
  // `base_model:adapter:X` and `base_model:X` filters pick the base; other filters are tags.
  let base: string | undefined;
  const tags: string[] = [];
  for (const f of query.filter) {
    const m = /^base_model:(?:adapter:)?(.+)$/.exec(f);
    if (m) base = m[1];
    else if (f !== "peft" && f !== "lora" && f !== "safetensors") tags.push(f);
  }
  const result = await searchAdapters(hub.database.db, {
    q: query.search,
    owner: query.author,
    base,
    tags: tags.length ? tags : undefined,
    task: query.pipeline_tag,
    sort: query.sort ? (SORTS[query.sort] ?? "downloads") : query.search ? "relevance" : "downloads",
    limit: query.limit,
    cursor: query.cursor,
  });
  const headers: Record<string, string> = {};
  if (result.nextCursor) {
    const next = new URL(url);
    next.searchParams.set("cursor", result.nextCursor);
    headers.Link = `<${next.toString()}>; rel="next"`;
  }
  return json(result.items.map(listEntry), 200, headers);
}

function listEntry(hit: SearchHit) {
  return {
    _id: hit.id,
    id: `${hit.owner}/${hit.name}`,
    modelId: `${hit.owner}/${hit.name}`,
    author: hit.owner,
    private: false,
    gated: false,
    pipeline_tag: hit.task ?? undefined,
    library_name: "peft",
    tags: hit.tags,
    downloads: hit.downloads,
    likes: hit.likes,
    createdAt: hit.createdAt.toISOString(),
    lastModified: hit.updatedAt.toISOString(),
  };
}

function sibling(f: VersionFile) {
  return {
    rfilename: f.path,
    size: f.size,
    blobId: f.sha256.slice(0, 40),
    lfs: { sha256: f.sha256, size: f.size, pointerSize: 134 },
  };
}

function modelInfo(adapter: Adapter, version: AdapterVersion, files: VersionFile[]) {
  return {
    _id: adapter.id,
    id: `${adapter.owner}/${adapter.name}`,
    modelId: `${adapter.owner}/${adapter.name}`,
    author: adapter.owner,
    sha: commitOf(version.digest),
    lastModified: version.createdAt.toISOString(),
    createdAt: adapter.createdAt.toISOString(),
    private: false,
    gated: false,
    disabled: false,
    downloads: adapter.downloads,
    likes: adapter.likes,
    library_name: "peft",
    pipeline_tag: adapter.task ?? undefined,
    tags: adapter.tags,
    cardData: adapter.cardData ?? {},
    siblings: files.map(sibling),
    usedStorage: files.reduce((n, f) => n + f.size, 0),
    lowrank: {
      version: version.version,
      digest: version.digest,
      baseModel: adapter.baseModel,
      baseDigest: adapter.baseDigest,
      rank: version.rank,
      alpha: version.alpha,
      targetModules: version.targetModules,
      dtype: version.dtype,
      format: version.format,
    },
  };
}

function treeEntry(f: VersionFile, path = f.path) {
  return {
    type: "file",
    path,
    size: f.size,
    oid: f.sha256.slice(0, 40),
    lfs: { oid: f.sha256, size: f.size, pointerSize: 134 },
  };
}

/** Entries under `dir` ("" for the root): files, and folders once each unless `recursive`. */
function tree(files: VersionFile[], dir: string, recursive: boolean) {
  const prefix = dir ? `${dir}/` : "";
  const out: unknown[] = [];
  const folders = new Set<string>();
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash >= 0 && !recursive) {
      const folder = prefix + rest.slice(0, slash);
      if (!folders.has(folder)) out.push({ type: "directory", path: folder, size: 0, oid: "0".repeat(40) });
      folders.add(folder);
    } else out.push(treeEntry(f));
  }
  return out;
}

const decode = (s: string) => decodeURIComponent(s);

/**
 * Routes of the Hugging Face Hub API that its clients use to find and download models:
 * `/api/models[...]` and `/{owner}/{name}/resolve/{rev}/{path}`. Returns null for other paths.
 */
export async function handleHfRequest(hub: HubServices, request: Request): Promise<Response | null> {
  const url = new URL(request.url);
  const parts = url.pathname.split("/").filter(Boolean);
  try {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    if (parts[0] === "api" && parts[1] === "models") {
      if (parts.length === 2) return request.method === "GET" ? await listModels(hub, url) : null;
      const [owner = "", name = ""] = [decode(parts[2] ?? ""), decode(parts[3] ?? "")];
      const rest = parts.slice(4);
      if (!slugSchema.safeParse(owner).success || !slugSchema.safeParse(name).success) {
        return hfError(404, "RepoNotFound", `repository ${owner}/${name} not found`);
      }
      let rev: string | undefined;
      let kind: "info" | "tree" | "paths-info" = "info";
      let path = "";
      if (rest[0] === "revision" && rest[1]) rev = decode(rest[1]);
      else if (rest[0] === "tree" && rest[1]) {
        kind = "tree";
        rev = decode(rest[1]);
        path = rest.slice(2).map(decode).join("/");
      } else if (rest[0] === "paths-info" && rest[1]) {
        kind = "paths-info";
        rev = decode(rest[1]);
      } else if (rest.length > 0) return null;
      const found = await lookupRepo(hub.database.db, owner, name, rev);
      if (found.kind === "repo-not-found") return hfError(404, "RepoNotFound", `repository ${owner}/${name} not found`);
      if (found.kind === "revision-not-found")
        return hfError(404, "RevisionNotFound", `revision ${rev} of ${owner}/${name} not found`);
      if (kind === "info") return json(modelInfo(found.adapter, found.version, found.files));
      if (kind === "tree")
        return json(tree(found.files, path.replace(/\/+$/, ""), url.searchParams.get("recursive") === "true"));
      const wanted = await pathsOf(request);
      return json(found.files.filter((f) => wanted.has(f.path)).map((f) => treeEntry(f)));
    }
    if (parts.length >= 5 && parts[2] === "resolve" && (request.method === "GET" || request.method === "HEAD")) {
      return await resolveFile(
        hub,
        request,
        decode(parts[0]!),
        decode(parts[1]!),
        decode(parts[3]!),
        parts.slice(4).map(decode).join("/"),
      );
    }
    return null;
  } catch (error) {
    return errorResponse(error);
  }
}

async function pathsOf(request: Request): Promise<Set<string>> {
  const type = request.headers.get("content-type") ?? "";
  const text = await request.text();
  if (type.includes("json")) {
    const body = z.object({ paths: z.union([z.string(), z.array(z.string())]) }).parse(JSON.parse(text));
    return new Set(Array.isArray(body.paths) ? body.paths : [body.paths]);
  }
  return new Set(new URLSearchParams(text).getAll("paths"));
}

/** Parses one `bytes=` range against `size`: null for none, "bad" for unsatisfiable. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | "bad" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "bad";
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "bad";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "bad";
  return { start, end };
}

/** `GET`/`HEAD /{owner}/{name}/resolve/{rev}/{path}`: the bytes, with the headers `hf_hub_download` and huggingface.js read. */
async function resolveFile(
  hub: HubServices,
  request: Request,
  owner: string,
  name: string,
  rev: string,
  path: string,
): Promise<Response> {
  const found = await lookupRepo(hub.database.db, owner, name, rev);
  if (found.kind === "repo-not-found") return hfError(404, "RepoNotFound", `repository ${owner}/${name} not found`);
  if (found.kind === "revision-not-found")
    return hfError(404, "RevisionNotFound", `revision ${rev} of ${owner}/${name} not found`);
  const file = found.files.find((f) => f.path === path);
  const commit = commitOf(found.version.digest);
  if (!file)
    return hfError(404, "EntryNotFound", `${path} not found in ${owner}/${name}@${rev}`, { "X-Repo-Commit": commit });
  const common: Record<string, string> = {
    ...CORS,
    ETag: `"${file.sha256}"`,
    "X-Linked-Etag": `"${file.sha256}"`,
    "X-Linked-Size": String(file.size),
    "X-Repo-Commit": commit,
    "Accept-Ranges": "bytes",
    "Content-Type": path.endsWith(".json")
      ? "application/json"
      : path.endsWith(".md")
        ? "text/markdown; charset=utf-8"
        : "application/octet-stream",
    "Content-Disposition": `attachment; filename="${path.split("/").pop()?.replace(/"/g, "") ?? "file"}"`,
    "Cache-Control": /^[0-9a-f]{40}$/.test(rev) ? "public, max-age=31536000, immutable" : "no-cache",
  };
  const range = parseRange(request.headers.get("range"), file.size);
  if (range === "bad") {
    return new Response(null, { status: 416, headers: { ...common, "Content-Range": `bytes */${file.size}` } });
  }
  const length = range ? range.end - range.start + 1 : file.size;
  const headers = {
    ...common,
    "Content-Length": String(length),
    ...(range ? { "Content-Range": `bytes ${range.start}-${range.end}/${file.size}` } : {}),
  };
  const status = range ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });
  const body = await hub.blobs.stream(file.sha256, range ?? undefined);
  if (!range && file.role === "peft" && path.endsWith(".safetensors"))
    await countDownload(hub, found.adapter.id, found.version.id);
  return new Response(body, { status, headers });
}

async function countDownload(hub: HubServices, adapterId: string, versionId: string): Promise<void> {
  await hub.database.db.transaction(async (tx) => {
    await tx.insert(downloads).values({ adapterId, versionId });
    await tx
      .update(adapters)
      .set({ downloads: sql`${adapters.downloads} + 1`, updatedAt: sql`${adapters.updatedAt}` })
      .where(eq(adapters.id, adapterId));
  });
}
