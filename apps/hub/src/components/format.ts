/** 1234567 -> "1.2M"; small numbers as they are. */
export function compactNumber(n: number): string {
  return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

/** Bytes in KB/MB with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** A date as YYYY-MM-DD (UTC), the same on server and client. */
export function isoDay(d: Date | string): string {
  return new Date(d).toISOString().slice(0, 10);
}
