import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Space } from "../protocol";

/** GET and POST /spaces/{id}/identity-secret (admins; never part of a space's JSON). */
interface IdentitySecret {
  secret: string | null;
  rotated_at: string | null;
}

// Signed visitor identity (structures.md, "Signed visitor identity"): the secret the site's
// backend signs identity tokens with, shown on demand with a rotate button, and the space's
// `require_identity` setting. A form of its own in the space's card.
export function SpaceIdentityField({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const [error, setError] = useState("");
  // undefined: not asked for yet (a secret stays off the screen until an admin wants it).
  const [secret, setSecret] = useState<IdentitySecret | undefined>(undefined);
  const path = `/spaces/${encodeURIComponent(space.id)}`;
  const required = space.settings?.require_identity === true;
  const run = async (work: () => Promise<void>) => {
    setError("");
    try {
      await work();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const show = () => run(async () => setSecret(await c.auth.api<IdentitySecret>("GET", `${path}/identity-secret`)));
  const rotate = () => {
    const replacing = secret?.secret
      ? `Rotate the identity secret of ${space.name}? Tokens signed with the old one stop working at once.`
      : "";
    if (replacing && !window.confirm(replacing)) return;
    void run(async () => setSecret(await c.auth.api<IdentitySecret>("POST", `${path}/identity-secret`)));
  };
  const require = (checked: boolean) =>
    run(async () => {
      const settings = { require_identity: checked };
      replace(await c.auth.api<Space>("PATCH", path, { settings }));
    });
  return (
    <div class="space-edit" data-part="space-identity">
      <span class="label">Identity secret</span>{" "}
      {secret === undefined ? (
        <button type="button" data-part="identity-secret-show" onClick={() => void show()}>
          Show
        </button>
      ) : (
        <>
          <code data-part="identity-secret">{secret.secret ?? "None yet"}</code>{" "}
          <button type="button" data-part="identity-secret-rotate" onClick={rotate}>
            {secret.secret ? "Rotate" : "Generate"}
          </button>
        </>
      )}
      <label class="check">
        <input
          type="checkbox"
          data-part="space-require-identity"
          checked={required}
          onChange={(e) => void require((e.currentTarget as HTMLInputElement).checked)}
        />{" "}
        Only signed-in visitors can chat (a signed identity token is required)
      </label>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </div>
  );
}
