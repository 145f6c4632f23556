/**
 * The command that runs this pnpm from a test: pnpm 12 may be a native executable (npm_execpath points
 * at a binary) or a JS file run by node; outside a pnpm script, `pnpm` on PATH.
 */
export function pnpmCommand(): string[] {
  const exec = process.env.npm_execpath;
  if (!exec || !/pnpm/.test(exec)) return ["pnpm"];
  return /\.[cm]?js$/.test(exec) ? [process.execPath, exec] : [exec];
}
