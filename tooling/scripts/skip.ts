/**
 * Whether a suite that needs a missing service may skip. Under `CI=true` it never may: the suite
 * runs, the service helper throws its "binary missing" error, and the suite fails.
 * @param missingReason undefined when the service is available, else why it is not.
 */
export function skipWithoutService(missingReason: string | undefined): boolean {
  return missingReason !== undefined && process.env.CI !== "true";
}

/** Suite title with the skip reason appended, so the runner's output says why it skipped. */
export function titleWithReason(title: string, missingReason: string | undefined): string {
  return skipWithoutService(missingReason) ? `${title} (skipped: ${missingReason})` : title;
}
