import { searchAdapters, searchInputSchema } from "../hub/search.js";
import { publicProcedure } from "../trpc.js";

/** Full-text search with filters, sorts and cursor pagination. */
export const search = publicProcedure.input(searchInputSchema).query(({ ctx, input }) => searchAdapters(ctx.db, input));
