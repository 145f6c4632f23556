export { BlobError, type BlobErrorCode, isBlobError } from "./BlobError.js";
export type { BlobStore, ByteRange, PutOptions, StoredBlob } from "./BlobStore.js";
export { collect } from "./BlobStore.js";
export { DiskBlobStore } from "./DiskBlobStore.js";
export { S3BlobStore, type S3BlobStoreOptions } from "./S3BlobStore.js";
