import type { Metadata } from "next";
import { redirect } from "next/navigation.js";
import { AdapterList } from "../../components/AdapterList.js";
import { Link } from "../../components/Link.js";
import { SignOutButton } from "../../components/SignOutButton.js";
import { TokenManager } from "../../components/TokenManager.js";
import { getCaller, getSession } from "../../server/caller.js";

export const metadata: Metadata = { title: "Account" };
export const dynamic = "force-dynamic";

export default async function AccountPage() {
  const session = await getSession();
  if (!session) return redirect("/signin");
  const caller = await getCaller();
  const mine = session.user.username
    ? await caller.adapters.list({ owner: session.user.username, limit: 100 })
    : { items: [] };
  return (
    <main className="wide">
      <h1>{session.user.username || session.user.name}</h1>
      <p>
        Signed in{session.user.role === "admin" ? " (admin)" : ""}. <SignOutButton />
      </p>
      <section aria-labelledby="tokens-heading" className="panel">
        <h2 id="tokens-heading">API tokens</h2>
        <p className="muted">
          For the CLI (<code>lowrank login</code>) and Hugging Face clients: send as{" "}
          <code>Authorization: Bearer hf_…</code>.
        </p>
        <TokenManager />
      </section>
      <section aria-labelledby="mine-heading">
        <h2 id="mine-heading">My adapters</h2>
        <AdapterList items={mine.items} empty="You have not published an adapter yet." />
        <p>
          <Link href="/publish">Publish an adapter</Link>
        </p>
      </section>
    </main>
  );
}
