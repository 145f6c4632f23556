import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "../errors.js";
import { resolveHub } from "../hub/credentials.js";
import { trpc } from "../hub/hubApi.js";
import { type CliIO, printJson, processIO } from "../output.js";

export const searchOptionsSchema = z.object({
  query: z.string().max(200),
  base: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  sort: z.enum(["relevance", "downloads", "likes", "newest"]).optional(),
  hub: z.string().optional(),
  json: z.boolean().optional(),
});
export type SearchOptions = z.input<typeof searchOptionsSchema>;

export interface SearchItem {
  owner: string;
  name: string;
  baseModel: string;
  rank: number | null;
  downloads: number;
  likes: number;
  description: string;
  tags: string[];
}

export async function searchHub(raw: SearchOptions): Promise<SearchItem[]> {
  const parsed = searchOptionsSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const o = parsed.data;
  const hub = await resolveHub(o.hub);
  const q = o.query.trim() || undefined;
  const result = await trpc<{ items: SearchItem[] }>(hub, "search", {
    q,
    base: o.base,
    limit: o.limit,
    sort: o.sort ?? (q ? "relevance" : "downloads"),
  });
  return result.items;
}

export function registerSearch(program: Command, io: CliIO = processIO): void {
  program
    .command("search")
    .description("search a hub's adapters (full text over names, tags, descriptions and cards)")
    .argument("<query>", 'words, "phrases", -excluded ("" lists everything)')
    .option("--base <name>", "only adapters for this base model")
    .option("--limit <n>", "how many results (1-100)", "20")
    .option("--sort <sort>", "relevance, downloads, likes or newest")
    .option("--hub <url>", "hub URL (default: the one from lowrank login)")
    .option("--json", "print JSON")
    .action(async (query: string, o: Omit<SearchOptions, "query">) => {
      const items = await searchHub({ ...o, query });
      if (o.json) return printJson(io, { items });
      if (items.length === 0) return void io.stdout.write("no adapters found\n");
      for (const i of items) {
        io.stdout.write(
          `${`${i.owner}/${i.name}`.padEnd(40)} base ${i.baseModel.padEnd(24)} r=${String(i.rank ?? "-").padEnd(4)} ↓${i.downloads} ♥${i.likes}\n`,
        );
      }
    });
}
