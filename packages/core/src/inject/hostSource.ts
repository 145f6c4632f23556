import type * as tf from "@tensorflow/tfjs-core";
import type { LinearHost } from "./LinearHost.js";
import type { ModuleSite, ModuleSource } from "./ModuleSource.js";

export function hostSource(host: LinearHost): ModuleSource {
  const heads = new Set(host.outputModuleNames?.() ?? []);
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
    forward: host.forward ? (x, opts) => (host.forward as NonNullable<LinearHost["forward"]>)(x, opts) : undefined,
  };
}
