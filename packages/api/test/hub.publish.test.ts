import { createHash } from "node:crypto";
import { adapters, adapterVersions } from "@lowrank/db";
import { TEST_PASSWORD, testBackends } from "@lowrank/db/testing";
import type { BaseManifest } from "@lowrank/formats";
import { adapterDigest } from "@lowrank/formats";
import { skipWithoutService, titleWithReason } from "@lowrank/test-services/skip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "../src/blobs/BlobStore.js";
import { type HubClient, peftFilesFor, startTestHub, type TestHub, uploadFiles } from "../src/testing.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function blobCount(blobs: BlobStore): Promise<number> {
  let n = 0;
  for await (const _ of blobs.list()) n++;
  return n;
}

const CARD = `---
license: apache-2.0
tags: [sentiment, demo]
pipeline_tag: text-generation
---
# Tiny sentiment adapter

Makes the tiny GPT-2 talk about movie reviews.
`;

// Publishing and search end to end over HTTP, on PGlite and on a real PostgreSQL.
for (const backend of testBackends) {
  describe.skipIf(skipWithoutService(backend.missingReason))(
    titleWithReason(`publish and search on ${backend.kind}`, backend.missingReason),
    () => {
      let t: TestHub;
      let dispose: () => Promise<void>;
      let alice: { token: string; client: HubClient };
      let bob: { token: string; client: HubClient };
      let manifest: BaseManifest;

      beforeAll(async () => {
        const opened = await backend.open();
        dispose = opened.dispose;
        t = await startTestHub({ database: opened.handle });
        const admin = await t.signUp("admin", "admin@example.com");
        manifest = await t.registerTinyGpt2(admin.client);
        alice = await t.signUp("alice");
        bob = await t.signUp("bob");
      });
      afterAll(async () => {
        await t?.close();
        await dispose?.();
      });

      it("publishes a PEFT folder: version, files, card front matter and search entry, keyed by the adapter digest", async () => {
        const files = peftFilesFor(manifest, { readme: CARD });
        const uploaded = await uploadFiles(t.url, alice.token, files);
        const published = await alice.client.adapters.publish.mutate({
          name: "tiny-sentiment",
          version: "v1",
          base: "gpt2-tiny",
          files: uploaded,
        });
        expect(published.owner).toBe("alice");
        expect(published.format).toBe("peft");
        expect(published.digest).toBe(
          adapterDigest({
            "adapter_config.json": files["adapter_config.json"]!,
            "adapter_model.safetensors": files["adapter_model.safetensors"]!,
          }),
        );

        const got = await bob.client.adapters.get.query({ owner: "alice", name: "tiny-sentiment" });
        expect(got.version.digest).toBe(published.digest);
        expect(got.version.rank).toBe(2);
        expect(got.version.dtype).toBe("F32");
        expect(got.adapter.license).toBe("apache-2.0");
        expect(got.adapter.task).toBe("text-generation");
        expect(got.adapter.tags).toEqual(
          expect.arrayContaining(["sentiment", "demo", "lora", "base_model:adapter:gpt2-tiny"]),
        );
        expect(got.adapter.cardData).toMatchObject({
          base_model: "gpt2-tiny",
          base_model_relation: "adapter",
          library_name: "peft",
        });
        expect(got.files.map((f) => f.path)).toEqual(["README.md", "adapter_config.json", "adapter_model.safetensors"]);
        const weights = got.files.find((f) => f.path === "adapter_model.safetensors")!;
        expect(weights.sha256).toBe(sha(files["adapter_model.safetensors"]!));

        const found = await bob.client.search.query({ q: "movie reviews" });
        expect(found.items.map((i) => `${i.owner}/${i.name}`)).toEqual(["alice/tiny-sentiment"]);
        expect(
          (
            await bob.client.search.query({
              q: "sentiment",
              base: "gpt2-tiny",
              minRank: 2,
              maxRank: 2,
              format: "peft",
              license: "apache-2.0",
              tags: ["demo"],
            })
          ).items,
        ).toHaveLength(1);
        expect((await bob.client.search.query({ q: "sentiment", minRank: 3 })).items).toHaveLength(0);
      });

      it("publishes a second version; versions never change and the latest is served", async () => {
        const files = peftFilesFor(manifest, { seed: 2, r: 4 });
        const uploaded = await uploadFiles(t.url, alice.token, files);
        await alice.client.adapters.publish.mutate({
          name: "tiny-sentiment",
          version: "v2",
          base: "gpt2-tiny",
          files: uploaded,
        });
        const got = await bob.client.adapters.get.query({ owner: "alice", name: "tiny-sentiment" });
        expect(got.version.version).toBe("v2");
        expect(got.versions.map((v) => v.version)).toEqual(["v2", "v1"]);
        await expect(
          alice.client.adapters.publish.mutate({
            name: "tiny-sentiment",
            version: "v2",
            base: "gpt2-tiny",
            files: await uploadFiles(t.url, alice.token, peftFilesFor(manifest, { seed: 3 })),
          }),
        ).rejects.toMatchObject({
          data: { code: "CONFLICT" },
          message: expect.stringContaining("versions never change"),
        });
      });

      it("refuses an adapter whose shapes do not fit the base, naming the layer and both shapes, with no row and no blob", async () => {
        const rowsBefore = (await t.hub.database.db.select().from(adapterVersions)).length;
        const blobsBefore = await blobCount(t.hub.blobs);
        const uploaded = await uploadFiles(t.url, alice.token, peftFilesFor(manifest, { shapeOff: true, seed: 9 }));
        const error = await alice.client.adapters.publish
          .mutate({ name: "wrong-shape", version: "v1", base: "gpt2-tiny", files: uploaded })
          .catch((e) => e);
        expect(error.data.code).toBe("BAD_REQUEST");
        expect(error.message).toMatch(
          /module h\.0\.attn\.c_attn: expected lora_A \[2,2\] and lora_B \[6,2\] .* found \[2,3\] and \[6,2\]/,
        );
        expect((await t.hub.database.db.select().from(adapterVersions)).length).toBe(rowsBefore);
        expect((await t.hub.database.db.select().from(adapters)).map((a) => a.name)).not.toContain("wrong-shape");
        expect(await blobCount(t.hub.blobs)).toBe(blobsBefore);
      });

      it("refuses unauthenticated and cross-user mutations", async () => {
        const { hubClient } = await import("../src/testing.js");
        const anonymous = hubClient(t.url);
        const files = await uploadFiles(t.url, bob.token, peftFilesFor(manifest, { seed: 5 }));
        await expect(
          anonymous.adapters.publish.mutate({ name: "x", version: "v1", base: "gpt2-tiny", files }),
        ).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
        const put = await fetch(`${t.url}/api/uploads`, { method: "PUT", body: new Uint8Array([1, 2, 3]) });
        expect(put.status).toBe(401);
        await expect(
          bob.client.adapters.publish.mutate({ owner: "alice", name: "evil", version: "v1", base: "gpt2-tiny", files }),
        ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
        await expect(
          bob.client.adapters.editCard.mutate({ owner: "alice", name: "tiny-sentiment", card: "# mine" }),
        ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
        await expect(
          bob.client.adapters.delete.mutate({ owner: "alice", name: "tiny-sentiment" }),
        ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
        await expect(bob.client.bases.register.mutate({ name: "sneaky", config: {} })).rejects.toMatchObject({
          data: { code: "FORBIDDEN" },
        });
        await expect(anonymous.adapters.like.mutate({ owner: "alice", name: "tiny-sentiment" })).rejects.toMatchObject({
          data: { code: "UNAUTHORIZED" },
        });
      });

      it("lets exactly one of several concurrent publishes of the same version succeed; the others get CONFLICT", async () => {
        const attempts = await Promise.all(
          [11, 12, 13, 14].map(async (seed) => uploadFiles(t.url, alice.token, peftFilesFor(manifest, { seed }))),
        );
        const results = await Promise.allSettled(
          attempts.map((files) =>
            alice.client.adapters.publish.mutate({ name: "raced", version: "v1", base: "gpt2-tiny", files }),
          ),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results)
          if (r.status === "rejected") expect(r.reason).toMatchObject({ data: { code: "CONFLICT" } });
        const versions = await bob.client.adapters.get.query({ owner: "alice", name: "raced" });
        expect(versions.versions).toHaveLength(1);
        // The losers' weights went with them; the winner's stayed.
        const weightsOf = (files: { path: string; sha256: string }[]) =>
          files.find((f) => f.path === "adapter_model.safetensors")!.sha256;
        const won = results.findIndex((r) => r.status === "fulfilled");
        for (const [i, files] of attempts.entries()) {
          const stat = await t.hub.blobs.stat(weightsOf(files));
          expect(stat === null).toBe(i !== won);
        }
      });

      it("likes once per user, counts, and sorts by likes", async () => {
        expect(await bob.client.adapters.like.mutate({ owner: "alice", name: "raced" })).toEqual({
          liked: true,
          likes: 1,
        });
        expect(await bob.client.adapters.like.mutate({ owner: "alice", name: "raced" })).toEqual({
          liked: true,
          likes: 1,
        });
        const top = await bob.client.search.query({ sort: "likes", limit: 1 });
        expect(top.items[0]?.name).toBe("raced");
      });

      if (backend.kind === "postgres") {
        it("never puts the database password in what it reports", () => {
          expect(t.hub.database.location).not.toContain(TEST_PASSWORD);
        });
      }
    },
  );
}
