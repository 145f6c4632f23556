"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { CopyButton } from "./CopyButton.js";
import { isoDay } from "./format.js";

/** API tokens: create (the secret is shown once, here), list by their first characters, revoke. */
export function TokenManager() {
  const trpc = useTRPC();
  const client = useQueryClient();
  const list = useQuery(trpc.tokens.list.queryOptions());
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: (t) => {
        setFresh({ name: t.name ?? "", token: t.token });
        void refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({ onSuccess: () => void refresh() }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const name = String(new FormData(form).get("name") ?? "");
    create.mutate({ name }, { onSuccess: () => form.reset() });
  }

  return (
    <div>
      <form className="inline" onSubmit={submit}>
        <label htmlFor="token-name">Token name</label>
        <input id="token-name" name="name" required maxLength={32} placeholder="laptop" />
        <button type="submit" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {create.isError ? (
        <p role="alert" className="error">
          {create.error.message}
        </p>
      ) : null}
      {fresh ? (
        <div className="fresh-token" role="status">
          <p>
            <strong>Copy your new token “{fresh.name}” now.</strong> It is stored hashed and will not be shown again.
          </p>
          <p>
            <code data-testid="new-token">{fresh.token}</code> <CopyButton text={fresh.token} label="Copy token" />{" "}
            <button type="button" onClick={() => setFresh(null)}>
              Done
            </button>
          </p>
        </div>
      ) : null}
      {list.isPending ? (
        <p className="muted">Loading tokens…</p>
      ) : list.isError ? (
        <p role="alert" className="error">
          {list.error.message}
        </p>
      ) : list.data.length === 0 ? (
        <p className="muted">No tokens yet.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Your API tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.start}…</code>
                </td>
                <td>{isoDay(t.createdAt)}</td>
                <td>{t.lastRequest ? isoDay(t.lastRequest) : "never"}</td>
                <td>
                  <button
                    type="button"
                    disabled={revoke.isPending}
                    onClick={() => revoke.mutate({ id: t.id })}
                    aria-label={`Revoke token ${t.name}`}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
