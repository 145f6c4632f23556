/** Runs a base model with adapters inside the hub process. Filled in by `createInference`. */
export interface Inference {
  close(): Promise<void>;
}
