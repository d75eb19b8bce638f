import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Agent, Space } from "../protocol";

// Bot-first routing on the Spaces and Groups pages (README "Bots", "Answering first"): which
// bot, if any, answers a space's or a group's new conversations before people do. The server
// checks the choice (a live bot of the organization, else 422); a group's bot wins over its
// space's for the conversations routed in it.

/** The organization's bots (GET /bots, admins'), loaded once per page; "" or why not. */
export function useBots(c: Console): { bots: Agent[]; error: string } {
  const [bots, setBots] = useState<Agent[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    c.auth
      .api<{ items: Agent[] }>("GET", "/bots")
      .then((page) => setBots(page.items))
      .catch((err: unknown) => setError(errorText(err)));
  }, []);
  return { bots, error };
}

/** The select's value as the API takes it: "" is nobody (null). */
export function botChoice(data: FormData): string | null {
  const picked = String(data.get("bot_agent_id") ?? "");
  return picked === "" ? null : picked;
}

export function BotSelect({
  bots,
  current,
  part,
}: {
  bots: Agent[];
  current: string | null | undefined;
  part: string;
}) {
  const chosen = current ?? "";
  return (
    <label title="A bot answers new conversations first and hands them over to people (README: Bots)">
      Answer new conversations first with
      <select name="bot_agent_id" data-part={part}>
        <option value="" selected={chosen === ""}>
          Nobody: people first
        </option>
        {chosen && !bots.some((b) => b.id === chosen) ? (
          // bots not loaded (yet): keep the stored choice rather than offer to clear it
          <option value={chosen} selected>
            The current bot
          </option>
        ) : null}
        {bots.map((b) => (
          <option key={b.id} value={b.id} selected={b.id === chosen}>
            {b.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A space's bot, a form of its own inside the space's card (PATCH settings.bot_agent_id). */
export function SpaceBotField({
  c,
  space,
  bots,
  replace,
}: {
  c: Console;
  space: Space;
  bots: Agent[];
  replace: (updated: Space) => void;
}) {
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  const current = space.settings?.bot_agent_id as string | null | undefined;

  const save = async (event: Event) => {
    event.preventDefault();
    const bot = botChoice(new FormData(event.currentTarget as HTMLFormElement));
    setError("");
    setSaved("");
    try {
      replace(
        await c.auth.api<Space>("PATCH", `/spaces/${encodeURIComponent(space.id)}`, {
          settings: { bot_agent_id: bot },
        }),
      );
      setSaved("Saved.");
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <form class="space-edit" data-part="space-bot-form" onSubmit={save}>
      <BotSelect bots={bots} current={current} part="space-bot" />
      <button type="submit" data-part="space-bot-save">
        Save bot
      </button>
      <span class="hint" data-part="space-bot-saved">
        {saved}
      </span>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </form>
  );
}
