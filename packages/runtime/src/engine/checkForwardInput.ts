import { RuntimeError } from "../backend/errors.js";
import type { ServableBase } from "./types.js";

/**
 * Checks one example against its base before it is queued, and returns its shape: the shape has positive
 * integer dims whose product is the input's length, the base accepts it (`checkInput`), token ids (int32
 * bases) are integers in [0, vocabSize), and float inputs are finite. Throws `InvalidArgument` naming the
 * field (`input_ids` for token bases, `input` otherwise), what was expected and what was found.
 */
export function checkForwardInput(base: ServableBase, input: ArrayLike<number>, shape?: readonly number[]): number[] {
  const field = base.inputDtype === "int32" ? "input_ids" : "input";
  if (input.length === 0)
    throw new RuntimeError("InvalidArgument", `${field}: expected at least one value, found none`);
  const dims = shape ? [...shape] : [input.length];
  if (dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0))
    throw new RuntimeError("InvalidArgument", `shape: expected positive integer dimensions, found [${dims}]`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== input.length)
    throw new RuntimeError(
      "InvalidArgument",
      `${field}: expected ${size} values for shape [${dims}], found ${input.length}`,
    );
  const problem = base.checkInput?.(dims);
  if (problem) throw new RuntimeError("InvalidArgument", problem);
  if (base.inputDtype === "int32") {
    const vocab = base.vocabSize;
    for (let i = 0; i < input.length; i++) {
      const v = input[i] as number;
      if (!Number.isInteger(v) || v < 0 || (vocab !== undefined && v >= vocab) || v > 0x7fffffff)
        throw new RuntimeError(
          "InvalidArgument",
          `${field}[${i}]: expected an integer token id in [0, ${vocab ?? 2 ** 31}), found ${v}`,
        );
    }
  } else {
    for (let i = 0; i < input.length; i++)
      if (!Number.isFinite(input[i]))
        throw new RuntimeError("InvalidArgument", `${field}[${i}]: expected a finite number, found ${input[i]}`);
  }
  return dims;
}
