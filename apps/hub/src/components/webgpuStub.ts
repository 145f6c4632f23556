// Stands in for the `webgpu` package (Dawn for Node) in browser bundles, where `navigator.gpu` is
// built in. The runtime only imports it from `installNodeWebGPU`, which a browser never calls.
export function create(): never {
  throw new Error("the webgpu package is for Node; this browser bundle uses navigator.gpu");
}
export const globals = {};
