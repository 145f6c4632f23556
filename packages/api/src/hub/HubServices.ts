import type { DbHandle } from "@lowrank/db";
import type { BlobStore } from "../blobs/BlobStore.js";
import type { Auth } from "./auth.js";
import type { Inference } from "./inference.js";

/** What the hub's routes and procedures share: one per process. */
export interface HubServices {
  database: DbHandle;
  blobs: BlobStore;
  auth: Auth;
  /** Largest file one upload may carry, in bytes. */
  maxUploadBytes: number;
  /** Runs bases with adapters in this process; absent where inference is off. */
  inference?: Inference;
}
