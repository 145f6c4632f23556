import { CharSeq2Seq, type Engine } from "@lowrank/runtime";
import { TRPCError } from "@trpc/server";

/**
 * Greedy transliteration of `word` on the hub's engine: one batched forward per output character, each
 * with the request's adapter (or `__base__`) at its scale, so concurrent requests share batches. The
 * base must be a `CharSeq2Seq`; an unknown character or a word too long is the runtime's
 * `InvalidArgument` (the caller maps it to BAD_REQUEST).
 */
export async function transliterateOnEngine(
  engine: Engine,
  req: { base: string; baseName: string; adapter: string; scale: number; word: string },
): Promise<string> {
  const model = await engine.getBase(req.base);
  if (!(model instanceof CharSeq2Seq)) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `word: expected a transliteration base (CharSeq2Seq), found base ${req.baseName} of another kind; send inputIds or input`,
    });
  }
  return model.transliterateWith(req.word, async (row) => {
    const r = await engine.forward({
      base: req.base,
      adapter: req.adapter,
      scale: req.scale,
      input: row,
      shape: [row.length],
    });
    return r.data;
  });
}
