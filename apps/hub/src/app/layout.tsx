import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Link } from "../components/Link.js";
import { getSession } from "../server/caller.js";
import { TRPCReactProvider } from "../trpc/react.js";
import "./globals.css";

// Every page reads the session (and the database): nothing is prerendered at build time.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "lowrank hub", template: "%s · lowrank hub" },
  description: "Publish, search and try LoRA adapters.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await getSession();
  return (
    <html lang="en">
      <body>
        <a className="skip" href="#content">
          Skip to content
        </a>
        <header className="site">
          <nav aria-label="Main">
            <Link href="/" className="brand">
              lowrank hub
            </Link>
            <Link href="/search">Search</Link>
            <Link href="/publish">Publish</Link>
            <Link href="/playground">Playground</Link>
            <span className="spacer" />
            {session ? (
              <Link href="/account">{session.user.username || session.user.name}</Link>
            ) : (
              <>
                <Link href="/signin">Sign in</Link>
                <Link href="/signup">Sign up</Link>
              </>
            )}
          </nav>
        </header>
        <TRPCReactProvider>
          <div id="content">{children}</div>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
