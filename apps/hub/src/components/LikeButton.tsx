"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { Link } from "./Link.js";

/** Like / unlike; signed-out visitors get a link to sign in instead. */
export function LikeButton(props: { owner: string; name: string; liked: boolean; likes: number; signedIn: boolean }) {
  const trpc = useTRPC();
  const [state, setState] = useState({ liked: props.liked, likes: props.likes });
  const like = useMutation(
    trpc.adapters.like.mutationOptions({ onSuccess: (r) => setState({ liked: r.liked, likes: r.likes }) }),
  );
  if (!props.signedIn)
    return (
      <span className="like">
        {state.likes} likes · <Link href="/signin">sign in to like</Link>
      </span>
    );
  return (
    <span className="like">
      <button
        type="button"
        aria-pressed={state.liked}
        disabled={like.isPending}
        onClick={() => like.mutate({ owner: props.owner, name: props.name, like: !state.liked })}
      >
        {state.liked ? "♥ Liked" : "♡ Like"}
      </button>{" "}
      <span>{state.likes} likes</span>
      {like.isError ? (
        <span role="alert" className="error">
          {" "}
          {like.error.message}
        </span>
      ) : null}
    </span>
  );
}
