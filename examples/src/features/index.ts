// `@lowrank/examples/features`: the recipes' input featurizers, browser-safe (no Node imports), so the
// hub's playground turns a sentence or a drawing into exactly what the models were trained on.

export { DEMO_CANVAS, DEMO_DIGITS } from "./demoDigits.js";
export { DIGIT_SIDE, digitPixels, rasterizeStrokes, type Stroke } from "./digit.js";
export { hashedFeatures, sentimentTokens } from "./text.js";
