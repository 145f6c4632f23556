export { errorResponse, HTTP_STATUS, HttpError } from "./httpErrors.js";
export { type EngineServer, type EngineServerOptions, startEngineServer } from "./startEngineServer.js";
