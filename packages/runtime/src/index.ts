export { RuntimeError, isRuntimeError, type RuntimeErrorCode } from "./backend/errors.js";
export {
  initBackend,
  backendInfo,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  type InitBackendOptions,
} from "./backend/initBackend.js";
