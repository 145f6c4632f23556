import type { Metadata } from "next";
import { AuthForm } from "../../components/AuthForm.js";
import { Link } from "../../components/Link.js";

export const metadata: Metadata = { title: "Sign in" };

export default function SignInPage() {
  return (
    <main>
      <h1>Sign in</h1>
      <AuthForm mode="signin" />
      <p>
        New here? <Link href="/signup">Create an account</Link>
      </p>
    </main>
  );
}
