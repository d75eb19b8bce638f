import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { t } from "../i18n";

// Admins: the built-in rules bot's rules (REST /bots/rules, /bots/{id}/rules; README "Built-in
// bot"). One form per bot holding the whole rule set; Save replaces it (PUT), and the service's
// rules bot answers with it within a few seconds. The server validates (bounds, labels); its
// error shows under the form. An external bot (rules null) becomes the built-in one on Save.

interface Button {
  label: string;
  answer?: string | null;
  handover?: boolean;
}

interface Entry {
  keywords: string[];
  answer: string;
}

export interface BotRules {
  greeting: string;
  buttons: Button[];
  knowledge: Entry[];
  fallback: string;
  max_misses: number;
  person_keywords: string[];
  collect_name: boolean;
  collect_email: boolean;
  ask_name: string;
  ask_email: string;
  invalid_email: string;
  handover_text: string;
}

interface BotItem {
  bot_id: string;
  name: string;
  rules: BotRules | null;
}

const TEXTS = [
  ["greeting", "Greeting"],
  ["fallback", "When nothing matches"],
  ["ask_name", "Asking the name"],
  ["ask_email", "Asking the email"],
  ["invalid_email", "When the email is not valid"],
  ["handover_text", "Handing over to a person"],
] as const;

/** A comma-separated list as the API's list: trimmed, blanks left out. */
export function words(text: string): string[] {
  return text
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean);
}

export function BotRulesPage({ c }: { c: Console }) {
  const [bots, setBots] = useState<BotItem[] | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    c.auth.api<{ items: BotItem[] }>("GET", "/bots/rules").then(
      (reply) => setBots(reply.items),
      (err) => setError(errorText(err)),
    );
  useEffect(() => void load(), []);
  // A new built-in bot: a bot account (its token is not needed: the service drives it) with
  // the default rules, which the form below then edits.
  const add = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("name") ?? "").trim();
    setError("");
    try {
      const made = await c.auth.api<{ bot: { id: string } }>("POST", "/bots", { name });
      await c.auth.api("PUT", `/bots/${made.bot.id}/rules`, DEFAULTS);
      form.reset();
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <main class="admin">
      <h1>{t("bot")}</h1>
      <p class="hint">
        The built-in bot greets visitors of the spaces and groups that route to it first (their
        bot setting), answers from the knowledge base, and hands over to a person.
      </p>
      <form class="card admin-form" data-part="bot-add" onSubmit={add}>
        <div class="fields">
          <label class="wide">
            New built-in bot's name (what visitors see)
            <input name="name" required maxLength={120} autocomplete="off" />
          </label>
        </div>
        <button type="submit">Add a built-in bot</button>
      </form>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {bots === null ? null : bots.length === 0 ? (
        <p class="hint" data-part="no-bots">
          No bots yet.
        </p>
      ) : (
        bots.map((bot) => <BotForm key={bot.bot_id} c={c} bot={bot} />)
      )}
    </main>
  );
}

function BotForm({ c, bot }: { c: Console; bot: BotItem }) {
  const [rules, setRules] = useState<BotRules | null>(bot.rules);
  const [draft, setDraft] = useState<BotRules>(bot.rules ?? DEFAULTS);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const set = (change: Partial<BotRules>) => setDraft({ ...draft, ...change });
  const save = async (event: Event) => {
    event.preventDefault();
    setError("");
    setStatus("");
    try {
      const reply = await c.auth.api<BotItem>("PUT", `/bots/${bot.bot_id}/rules`, draft);
      setRules(reply.rules);
      if (reply.rules) setDraft(reply.rules);
      setStatus("Saved");
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="card admin-form bot-rules" data-part="bot-rules" data-bot-id={bot.bot_id} onSubmit={save}>
      <h2>
        {bot.name} {rules ? null : <span class="hint">(external: no rules yet)</span>}
      </h2>
      <div class="fields">
        {TEXTS.map(([key, label]) => (
          <label class="wide">
            {label}
            <textarea
              name={key}
              rows={2}
              required
              maxLength={4000}
              value={draft[key]}
              onInput={(e) => set({ [key]: e.currentTarget.value })}
            />
          </label>
        ))}
      </div>
      <h3>Buttons</h3>
      {draft.buttons.map((b, i) => (
        <div class="fields bot-row" data-part="bot-button">
          <label>
            Label
            <input
              name="label"
              required
              maxLength={40}
              value={b.label}
              onInput={(e) => set({ buttons: replaced(draft.buttons, i, { ...b, label: e.currentTarget.value }) })}
            />
          </label>
          <label class="wide">
            Answer (empty: match the knowledge base)
            <input
              name="button-answer"
              value={b.answer ?? ""}
              disabled={b.handover}
              onInput={(e) =>
                set({ buttons: replaced(draft.buttons, i, { ...b, answer: e.currentTarget.value || null }) })
              }
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="handover"
              checked={Boolean(b.handover)}
              onChange={(e) =>
                set({
                  buttons: replaced(draft.buttons, i, { ...b, handover: e.currentTarget.checked, answer: null }),
                })
              }
            />
            Hands over
          </label>
          <button type="button" class="danger" onClick={() => set({ buttons: draft.buttons.filter((_, j) => j !== i) })}>
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        data-part="add-button"
        disabled={draft.buttons.length >= 8}
        onClick={() => set({ buttons: [...draft.buttons, { label: "" }] })}
      >
        Add a button
      </button>
      <h3>Knowledge base</h3>
      {draft.knowledge.map((k, i) => (
        // Keyed by the list's length too: a removal recreates the rows (the keyword fields are
        // uncontrolled, so that a comma typed stays until the list is read).
        <div key={`${i}/${draft.knowledge.length}`} class="fields bot-row" data-part="bot-entry">
          <label>
            Keywords (comma-separated)
            <input
              name="keywords"
              required
              defaultValue={k.keywords.join(", ")}
              onInput={(e) => set({ knowledge: replaced(draft.knowledge, i, { ...k, keywords: words(e.currentTarget.value) }) })}
            />
          </label>
          <label class="wide">
            Answer
            <textarea
              name="answer"
              rows={2}
              required
              value={k.answer}
              onInput={(e) => set({ knowledge: replaced(draft.knowledge, i, { ...k, answer: e.currentTarget.value }) })}
            />
          </label>
          <button
            type="button"
            class="danger"
            onClick={() => set({ knowledge: draft.knowledge.filter((_, j) => j !== i) })}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        data-part="add-entry"
        onClick={() => set({ knowledge: [...draft.knowledge, { keywords: [], answer: "" }] })}
      >
        Add an answer
      </button>
      <h3>Handover</h3>
      <div class="fields">
        <label class="wide">
          Words that ask for a person (comma-separated)
          <input
            name="person_keywords"
            defaultValue={draft.person_keywords.join(", ")}
            onInput={(e) => set({ person_keywords: words(e.currentTarget.value) })}
          />
        </label>
        <label>
          Hand over after this many unanswered messages
          <input
            name="max_misses"
            type="number"
            min={1}
            max={10}
            value={draft.max_misses}
            onInput={(e) => set({ max_misses: Number(e.currentTarget.value) })}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="collect_name"
            checked={draft.collect_name}
            onChange={(e) => set({ collect_name: e.currentTarget.checked })}
          />
          Ask the name first
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="collect_email"
            checked={draft.collect_email}
            onChange={(e) => set({ collect_email: e.currentTarget.checked })}
          />
          Ask the email first
        </label>
      </div>
      <p class="error" role="alert" data-part="bot-rules-error" hidden={!error}>
        {error}
      </p>
      <div class="row-actions">
        <button type="submit" class="primary" data-part="bot-rules-save">
          Save
        </button>
        <span role="status" data-part="bot-rules-status">
          {status}
        </span>
      </div>
    </form>
  );
}

function replaced<T>(list: T[], index: number, item: T): T[] {
  return list.map((old, i) => (i === index ? item : old));
}

// What a bot without rules starts from (the server's defaults, chat/rulesbot/rules.py).
const DEFAULTS: BotRules = {
  greeting: "Hi! I'm the assistant. What can I help you with?",
  // Not "person" or "agent": those words hand over at once, before the bot asks the name.
  buttons: [{ label: "Talk to the team", handover: true }],
  knowledge: [],
  fallback: "Sorry, I did not understand. Pick an option below, or ask for a person.",
  max_misses: 2,
  person_keywords: ["human", "person", "agent", "someone", "operator", "representative"],
  collect_name: true,
  collect_email: true,
  ask_name: "Before I connect you: what is your name?",
  ask_email: "Thanks! And your email address, in case we get cut off?",
  invalid_email: "That does not look like an email address. Could you check it?",
  handover_text: "Thank you! I'm passing you to a person now, who can see this chat.",
};
