import { ggufHeadCounts } from "@lowrank/formats";
import type { Metadata } from "next";
import { Link } from "../../components/Link.js";
import { PublishForm } from "../../components/PublishForm.js";
import { getCaller, getSession } from "../../server/caller.js";

export const metadata: Metadata = { title: "Publish" };
export const dynamic = "force-dynamic";

export default async function PublishPage() {
  const session = await getSession();
  if (!session)
    return (
      <main>
        <h1>Publish an adapter</h1>
        <p>
          <Link href="/signin">Sign in</Link> or <Link href="/signup">create an account</Link> to publish.
        </p>
      </main>
    );
  const caller = await getCaller();
  const list = await caller.bases.list();
  const bases = await Promise.all(list.map((b) => caller.bases.get({ name: b.name })));
  return (
    <main>
      <h1>Publish an adapter</h1>
      <p className="lede">
        Checked against the base here in your browser before a byte is uploaded, and again by the hub.
      </p>
      <PublishForm
        username={session.user.username ?? ""}
        bases={bases.map((b) => ({
          name: b.name,
          architecture: b.architecture,
          manifest: b.manifest,
          ...ggufHeadCounts(b.config),
        }))}
      />
    </main>
  );
}
