"use client";

import { useRouter } from "next/navigation.js";
import { type FormEvent, useState } from "react";

/** better-auth's error body: `{ message, code }`. */
async function errorOf(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  return body?.message ?? `the hub answered ${response.status}`;
}

/** Sign up (email, username, password) or sign in (email, password) through better-auth's routes. */
export function AuthForm({ mode }: { mode: "signup" | "signin" }) {
  const router = useRouter();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    setError("");
    const data = Object.fromEntries(new FormData(e.currentTarget)) as Record<string, string>;
    const body =
      mode === "signup"
        ? { email: data.email, password: data.password, name: data.username, username: data.username }
        : { email: data.email, password: data.password };
    try {
      const response = await fetch(`/api/auth/${mode === "signup" ? "sign-up" : "sign-in"}/email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        setError(await errorOf(response));
        return;
      }
      router.push("/account");
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={submit} aria-describedby={error ? "auth-error" : undefined}>
      <div className="field">
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="email" required />
      </div>
      {mode === "signup" ? (
        <div className="field">
          <label htmlFor="username">Username</label>
          <input
            id="username"
            name="username"
            autoComplete="username"
            required
            pattern="[a-z0-9][a-z0-9._\-]{0,62}[a-z0-9]|[a-z0-9]"
            aria-describedby="username-help"
          />
          <small id="username-help" className="muted">
            Lowercase letters, digits, '.', '-', '_': your adapters live under this name.
          </small>
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete={mode === "signup" ? "new-password" : "current-password"}
          minLength={8}
          required
        />
      </div>
      {error ? (
        <p id="auth-error" role="alert" className="error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {mode === "signup" ? "Create account" : "Sign in"}
      </button>
    </form>
  );
}
