// Sentiment: sentiment@5.0.2's labelled Amazon, Yelp and IMDB sentences. A base classifier over hashed
// bag-of-words features trained on Amazon; LoRA adapters for Yelp and IMDB.
import { type Recipe, trainAdapter } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { hashedFeatures, type LabelledText, loadSentiment, type SentimentDomain } from "../data/sentiment.js";
import type { Domain, Split, TaskSpec } from "../lib/experiment.js";
import { seededSplit } from "../lib/split.js";
import { accuracy, layersTaskModel, type TaskModel } from "../lib/TaskModel.js";

export const SENTIMENT_FEATURES = 2048;
const HIDDEN = 256;

export function buildSentimentModel(seed: number, features = SENTIMENT_FEATURES, hidden = HIDDEN): TaskModel {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + k });
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      units: hidden,
      inputShape: [features],
      activation: "relu",
      name: "fc1",
      kernelInitializer: init(1),
    }),
  );
  m.add(tfl.layers.dropout({ rate: 0.3, seed: seed + 7 }));
  m.add(tfl.layers.dense({ units: 2, name: "head", kernelInitializer: init(2) }));
  return layersTaskModel(m);
}

function toSplit(rows: LabelledText[], features: number): Split {
  return {
    x: tf.tensor2d(
      hashedFeatures(
        rows.map((r) => r.text),
        features,
      ),
      [rows.length, features],
    ),
    y: tf.tensor1d(
      Int32Array.from(rows, (r) => r.label),
      "int32",
    ),
  };
}

/** A domain with a fixed seeded 80/20 split (seed 0), optionally cut to `limit` rows per split. */
export function sentimentDomain(name: SentimentDomain, features = SENTIMENT_FEATURES, limit?: number): Domain {
  const rows = loadSentiment(name);
  const { train, test } = seededSplit(rows.length, 0.2, 0);
  const pick = (idx: Int32Array) => Array.from(idx.subarray(0, limit ?? idx.length), (i) => rows[i] as LabelledText);
  return { name, train: toSplit(pick(train), features), test: toSplit(pick(test), features) };
}

export function sentimentLoraConfig(rank: number): Record<string, unknown> {
  return { r: rank, lora_alpha: 2 * rank, target_modules: ["fc1", "head"] };
}

export function sentimentTask(
  o: { seed?: number; limit?: number; features?: number; hidden?: number } = {},
): Omit<TaskSpec, "log" | "onAdapter" | "onBase"> {
  const features = o.features ?? SENTIMENT_FEATURES;
  return {
    task: "sentiment",
    seed: o.seed ?? 0,
    build: (seed) => buildSentimentModel(seed, features, o.hidden ?? HIDDEN),
    source: sentimentDomain("amazon", features, o.limit),
    targets: [sentimentDomain("yelp", features, o.limit), sentimentDomain("imdb", features, o.limit)],
    loss: "softmaxCrossEntropy",
    metricName: "accuracy",
    evaluate: accuracy,
    loraConfig: sentimentLoraConfig,
    base: { epochs: 15, learningRate: 1e-3, batchSize: 32 },
    adapter: { epochs: 15, learningRate: 3e-3, batchSize: 32, rank: 8 },
    full: { epochs: 15, learningRate: 1e-3, batchSize: 32 },
    sweepRanks: [1, 2, 4, 8, 16, 32],
  };
}

/** `lowrank train sentiment`: Yelp adapter over an Amazon base trained here. */
export const sentiment: Recipe = {
  name: "sentiment",
  description: "sentiment: hashed bag-of-words MLP trained on Amazon reviews, LoRA adapter for Yelp",
  defaults: { rank: 8, epochs: 15, batchSize: 32, learningRate: 3e-3, seed: 0 },
  load: () => {
    const d = sentimentDomain("yelp");
    return { x: d.train.x, y: d.train.y, test: d.test };
  },
  buildBase: async ({ seed, onStep }) => {
    const model = buildSentimentModel(seed);
    const d = sentimentDomain("amazon");
    await trainAdapter({
      model: model.full,
      data: d.train,
      loss: "softmaxCrossEntropy",
      epochs: 15,
      batchSize: 32,
      learningRate: 1e-3,
      seed,
      onStep: (st) =>
        onStep?.({ step: st.step, totalSteps: 15 * Math.ceil((d.train.x.shape[0] as number) / 32), loss: st.loss }),
    });
    tf.dispose([d.train.x, d.train.y, d.test.x, d.test.y]);
    return model.host as tfl.LayersModel;
  },
  loraConfig: ({ rank }) => sentimentLoraConfig(rank),
  loss: "softmaxCrossEntropy",
  metrics: ["accuracy"],
};
export default sentiment;

export const sentimentReport = {
  title: "Sentiment: Amazon → Yelp and IMDB",
  notes: [
    "Data: `sentiment@5.0.2`'s `test/fixtures/{amazon,yelp,imdb}.json`, 1,001 labelled sentences each (500 positive; the loader skips null entries, none occur in 5.0.2), each split once with seed 0 into 801 train and 200 test sentences. Test sentences are never trained on.",
    `Features: the sentiment package's own tokenizer (\`sentiment/lib/tokenize\`), word unigrams and bigrams hashed (FNV-1a) into ${SENTIMENT_FEATURES} buckets, log(1 + count), L2-normalized; hashing means Yelp and IMDB words unseen on Amazon still have features for an adapter to use.`,
    `Base: MLP ${SENTIMENT_FEATURES}-${HIDDEN}-2 (ReLU, dropout 0.3) trained on Amazon (15 epochs, Adam 1e-3, batch 32). Adapters: LoRA on fc1 and head, lora_alpha = 2r, 15 epochs at Adam 3e-3; full fine-tunes: every weight, 15 epochs at Adam 1e-3. With 200 test sentences one point is two sentences, so differences of a point or two are within noise.`,
  ],
};
