import { useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";

// The agent's own picture, shown to visitors in the widget's header beside their name (README
// "Appearance"); without one visitors see the name's initials. PNG, JPEG, GIF or WebP up to
// 64 KiB, stored and served by this service (so strict-CSP sites can show it).
export function AvatarField({ c }: { c: Console }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState("");
  // Uploads and removals since the first read: an answer to that read that comes after one of
  // them is older than what it did, and must not put the old picture (or none) back.
  const edits = useRef(0);
  useEffect(() => {
    const before = edits.current;
    c.auth
      .api<{ avatar_url: string | null }>("GET", "/auth/me/avatar")
      .then((r) => edits.current === before && setUrl(r.avatar_url))
      .catch((err) => edits.current === before && setError(errorText(err)));
  }, []);
  const upload = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    edits.current += 1;
    setError("");
    try {
      setUrl((await c.auth.api<{ avatar_url: string }>("PUT", "/auth/me/avatar", file)).avatar_url);
    } catch (err) {
      setError(errorText(err));
    }
    input.value = "";
  };
  const remove = async () => {
    edits.current += 1;
    setError("");
    try {
      await c.auth.api("DELETE", "/auth/me/avatar");
      setUrl(null);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="card avatar-field" data-part="avatar">
      <h2>Your picture</h2>
      <p class="hint">
        Visitors see it, with your name, in the chat window's header. Nothing else about you is
        shown to them.
      </p>
      <div class="row-actions">
        {url ? (
          <img class="avatar" data-part="avatar-image" src={url} alt="Your picture" />
        ) : (
          <span class="hint">No picture: visitors see your initials.</span>
        )}
        <label>
          {url ? "Change picture" : "Upload a picture"}{" "}
          <input
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            data-part="avatar-file"
            onChange={(e) => void upload(e.currentTarget as HTMLInputElement)}
          />
        </label>
        {url && (
          <button type="button" data-part="avatar-remove" onClick={() => void remove()}>
            Remove
          </button>
        )}
      </div>
      <p class="error" role="alert" hidden={!error}>
        {error}
      </p>
    </section>
  );
}
