import type { Metadata } from "next";
import { AuthForm } from "../../components/AuthForm.js";
import { Link } from "../../components/Link.js";

export const metadata: Metadata = { title: "Sign up" };

export default function SignUpPage() {
  return (
    <main>
      <h1>Create an account</h1>
      <AuthForm mode="signup" />
      <p>
        Already have one? <Link href="/signin">Sign in</Link>
      </p>
    </main>
  );
}
