export {
  BlobError,
  type BlobStore,
  collect,
  DiskBlobStore,
  isBlobError,
  S3BlobStore,
  type S3BlobStoreOptions,
} from "../blobs/index.js";
export { handleBaseFile } from "../http/baseFiles.js";
export { handleHubRequest, handleTrpc } from "../http/handleHubRequest.js";
export { handleHfRequest, parseRange } from "../http/hfApi.js";
export { serveHub, toRequest, writeResponse } from "../http/serveHub.js";
export { handleUpload } from "../http/uploads.js";
export { type Auth, createAuth, sessionFrom, TOKEN_PREFIX } from "./auth.js";
export { registerBase, registerBaseInputSchema } from "./bases.js";
export { type CreateHubServicesOptions, createHubServices } from "./createHubServices.js";
export type { HubServices } from "./HubServices.js";
export {
  createInference,
  type Inference,
  type InferenceInput,
  type InferenceResult,
  inferenceInputSchema,
} from "./inference.js";
export { type PublishedVersion, publishVersion } from "./publish.js";
export { commitOf, lookupRepo } from "./repo.js";
export { filePathSchema, publishInputSchema } from "./schemas.js";
export { searchAdapters, searchInputSchema } from "./search.js";
export { DEMO_OWNER, seedDemo } from "./seed.js";
export { referencedBlobs, sweepOrphans } from "./sweep.js";
