"use client";

import { useState } from "react";

/** Copies `text` to the clipboard and says so (politely, for screen readers). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<"" | "copied" | "failed">("");
  return (
    <>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setDone("copied"),
            () => setDone("failed"),
          )
        }
      >
        {label}
      </button>
      <span className="muted" aria-live="polite">
        {done === "copied" ? " Copied." : done === "failed" ? " Copy failed: select the text instead." : ""}
      </span>
    </>
  );
}
