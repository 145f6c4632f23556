export { adapterFolder } from "./adapterFolder.js";
export { defineRoute, type Route, type RouteContext, RouteStream } from "./defineRoute.js";
export { type EngineRoutesOptions, engineRoutes } from "./engineRoutes.js";
export { errorResponse, HTTP_STATUS, HttpError } from "./httpErrors.js";
export { type OpenAiHandler, type OpenAiOptions, openAiError, openAiHandler } from "./openai.js";
export { chatRequestSchema, completionRequestSchema } from "./openaiSchemas.js";
export { forwardBody, generateBody, loadBody, unloadBody } from "./requestSchemas.js";
export { type EngineServer, type EngineServerOptions, startEngineServer } from "./startEngineServer.js";
