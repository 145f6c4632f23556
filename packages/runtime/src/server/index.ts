export { errorResponse, HTTP_STATUS, HttpError } from "./httpErrors.js";
export { type OpenAiHandler, type OpenAiOptions, openAiError, openAiHandler } from "./openai.js";
export { chatRequestSchema, completionRequestSchema } from "./openaiSchemas.js";
export { type EngineServer, type EngineServerOptions, startEngineServer } from "./startEngineServer.js";
