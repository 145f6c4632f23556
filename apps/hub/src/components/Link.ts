import NextLink from "next/link.js";

// Under NodeNext resolution TypeScript reads next/link (CommonJS) as its module object, so it types
// the default import as `{ default: Link }`. At run time the default import is the component itself
// (in a Server Component, a client reference that must be passed through untouched): only the type
// changes here.
export const Link = NextLink as unknown as typeof NextLink.default;
