import { join } from "node:path";
import type { DbHandle } from "@lowrank/db";
import type { InitBackendOptions } from "@lowrank/runtime";
import type { BlobStore } from "../blobs/BlobStore.js";
import { DiskBlobStore } from "../blobs/DiskBlobStore.js";
import { createAuth } from "./auth.js";
import type { HubServices } from "./HubServices.js";
import { createInference } from "./inference.js";
import { sweepOrphans } from "./sweep.js";

export interface CreateHubServicesOptions {
  /** Open and migrated. */
  database: DbHandle;
  /** Default: blobs on disk in `<dataDir>/blobs`. */
  blobs?: BlobStore;
  dataDir?: string;
  /** Signs session cookies (32+ characters). */
  secret: string;
  /** Public URL of the hub. */
  baseURL: string;
  adminEmails?: readonly string[];
  /** Default 1 GiB. */
  maxUploadBytes?: number;
  signInPerMinute?: number;
  /** Blobs nobody refers to are removed at start once older than this (default one hour). */
  orphanMinAgeMs?: number;
  /** Run bases with adapters in this process (tRPC `inference.run`); default true. */
  inference?: boolean;
  /** tfjs backend for inference (default: `initBackend`'s choice, wasm in Node). */
  inferenceBackend?: InitBackendOptions;
}

/** The hub's services for one process; clears what a crash left in the blob store before answering. */
export async function createHubServices(options: CreateHubServicesOptions): Promise<HubServices> {
  const blobs = options.blobs ?? new DiskBlobStore(join(options.dataDir ?? ".data", "blobs"));
  const hub: HubServices = {
    database: options.database,
    blobs,
    auth: createAuth(options.database.db, {
      secret: options.secret,
      baseURL: options.baseURL,
      adminEmails: options.adminEmails,
      signInPerMinute: options.signInPerMinute,
    }),
    maxUploadBytes: options.maxUploadBytes ?? 1024 ** 3,
    inference:
      options.inference === false
        ? undefined
        : createInference({ db: options.database.db, blobs }, { backend: options.inferenceBackend }),
  };
  await sweepOrphans(hub, { minAgeMs: options.orphanMinAgeMs });
  return hub;
}
