import * as tf from "@tensorflow/tfjs-core";
import type { LinearHost } from "./LinearHost.js";
import { type ModuleSite, type ModuleSource, torchLayout } from "./ModuleSource.js";

export function hostSource(host: LinearHost): ModuleSource {
  const heads = new Set(host.outputModuleNames?.() ?? []);
  const isLinearWeight = (key: string) => {
    const m = host.linearModules().get(key.slice(0, -".weight".length));
    return key.endsWith(".weight") && m !== undefined && (m.kind ?? "linear") !== "embedding";
  };
  return {
    sites(): ModuleSite[] {
      return [...host.linearModules()].map(([name, m]) => ({
        name,
        kind: m.kind ?? "linear",
        weight: m.weight,
        bias: m.bias ?? null,
        isOutputHead: heads.has(name),
        attach: (lora) => {
          m.lora = lora;
        },
        detach: () => {
          m.lora = undefined;
        },
      }));
    },
    namedVariables(): Map<string, tf.Variable> {
      const given = host.namedVariables?.();
      if (given) return given;
      const out = new Map<string, tf.Variable>();
      for (const [name, m] of host.linearModules()) {
        out.set(`${name}.weight`, m.weight);
        if (m.bias) out.set(`${name}.bias`, m.bias);
      }
      return out;
    },
    // Host parameters already carry torch names; linear weights are held [in, out] (see LinearHost), which is
    // torch's layout only for Conv1D-style (fan_in_fan_out) modules.
    toPeftParameter(key, value, fanInFanOut) {
      return { key, value: isLinearWeight(key) && !fanInFanOut ? torchLayout(value, "toTorch") : tf.clone(value) };
    },
    fromPeftParameter(key, value, fanInFanOut) {
      if (!this.namedVariables().has(key)) return null;
      return { key, value: isLinearWeight(key) && !fanInFanOut ? torchLayout(value, "fromTorch") : tf.clone(value) };
    },
    forward: host.forward ? (x, opts) => (host.forward as NonNullable<LinearHost["forward"]>)(x, opts) : undefined,
  };
}
