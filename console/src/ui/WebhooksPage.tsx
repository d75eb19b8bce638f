import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { dateTime } from "./format";
import { useFormAction } from "./formAction";
import { t } from "../i18n";

// Admins: the organization's webhook endpoints (REST /webhooks; README "Webhooks"): register
// with the kinds to send, enable or disable, rotate the secret, read the delivery log, and
// replay every event after an id or from a time. A secret is shown once, as the API answers it.

export interface Webhook {
  id: string;
  url: string;
  kinds: string[];
  description: string;
  enabled: boolean;
  created_at: string;
}

interface Delivery {
  event_id: string;
  kind: string | null;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  last_attempt_at: string | null;
}

// chat/webhooks/events.py PUBLIC_KINDS, in its order; note.created carries private notes.
export const WEBHOOK_KINDS = [
  "message.created",
  "thread.opened",
  "thread.claimed",
  "thread.assigned",
  "thread.transferred",
  "thread.requeued",
  "thread.regrouped",
  "thread.handed_over",
  "thread.closed",
  "thread.expired",
  "thread.reopened",
  "thread.tagged",
  "thread.untagged",
  "thread.deleted",
  "thread.restored",
  "visitor.updated",
  "note.created",
] as const;

/** The create form as a request body: the kinds ticked, in the API's order. */
export function webhookFields(data: FormData): { url: string; kinds: string[]; description: string } {
  const ticked = new Set(data.getAll("kinds").map(String));
  return {
    url: String(data.get("url") ?? "").trim(),
    kinds: WEBHOOK_KINDS.filter((k) => ticked.has(k)),
    description: String(data.get("description") ?? "").trim(),
  };
}

/** The replay form as a request body: an event id, else a local time as RFC 3339. */
export function replayBody(from: string): { from_event_id: string } | { from_time: string } {
  const text = from.trim();
  if (/^\d+-\d+$/.test(text)) return { from_event_id: text };
  return { from_time: new Date(text).toISOString() };
}

export function WebhooksPage({ c }: { c: Console }) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [secret, setSecret] = useState("");
  const [error, setError] = useState("");
  const load = () =>
    c.auth
      .api<{ items: Webhook[] }>("GET", "/webhooks")
      .then((r) => setHooks(r.items))
      .catch((err: unknown) => setError(errorText(err)));
  useEffect(() => void load(), []);
  const form = useFormAction(async (data) => {
    const made = await c.auth.api<Webhook & { secret: string }>("POST", "/webhooks", webhookFields(data));
    setSecret(`${made.url}: ${made.secret}`);
    await load();
  });
  return (
    <main class="admin" data-part="webhooks-page">
      <h1>{t("webhooks")}</h1>
      <p class="hint">
        Events are sent from the durable log, signed (Chat-Signature), at least once and in order
        per conversation; replay re-sends every event after an id or from a time.
      </p>
      <form class="card admin-form" data-part="webhook-form" onSubmit={form.submit}>
        <h2>Add an endpoint</h2>
        <div class="fields">
          <label class="wide">
            URL
            <input name="url" type="url" required maxLength={2048} placeholder="https://" />
          </label>
          <label class="wide">
            Description
            <input name="description" maxLength={200} autocomplete="off" />
          </label>
          <fieldset class="wide kinds" data-part="webhook-kinds">
            <legend>Events</legend>
            {WEBHOOK_KINDS.map((k) => (
              <label key={k} class="check">
                <input type="checkbox" name="kinds" value={k} defaultChecked={k === "message.created"} />
                {k}
                {k === "note.created" ? " (private notes)" : ""}
              </label>
            ))}
          </fieldset>
        </div>
        <p class="error" role="alert" data-part="webhook-form-error" hidden={!form.error}>
          {form.error}
        </p>
        <button type="submit" class="primary" disabled={form.busy}>
          Add
        </button>
      </form>
      {secret ? (
        <p class="card secret-shown" role="status" data-part="webhook-secret">
          Signing secret, shown once: <code>{secret}</code>
        </p>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {hooks?.length === 0 ? <p class="hint">No endpoints yet.</p> : null}
      <ul class="space-list">
        {(hooks ?? []).map((h) => (
          <WebhookRow key={`${h.id}:${h.enabled}`} c={c} h={h} reload={load} showSecret={setSecret} />
        ))}
      </ul>
    </main>
  );
}

function WebhookRow(props: {
  c: Console;
  h: Webhook;
  reload: () => Promise<void>;
  showSecret: (text: string) => void;
}) {
  const { c, h } = props;
  const [error, setError] = useState("");
  const [log, setLog] = useState<Delivery[] | null>(null);
  const [replayed, setReplayed] = useState("");
  const url = `/webhooks/${encodeURIComponent(h.id)}`;
  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const toggle = () =>
    act(async () => {
      await c.auth.api("PATCH", url, { enabled: !h.enabled });
      await props.reload();
    });
  const rotate = () =>
    act(async () => {
      const r = await c.auth.api<{ secret: string }>("POST", `${url}/rotate-secret`);
      props.showSecret(`${h.url}: ${r.secret}`);
    });
  const remove = () => {
    if (!window.confirm(`Delete the webhook to ${h.url}? Its pending deliveries are dropped.`)) return;
    void act(async () => {
      await c.auth.api("DELETE", url);
      await props.reload();
    });
  };
  const showLog = () =>
    act(async () => setLog((await c.auth.api<{ items: Delivery[] }>("GET", `${url}/deliveries?limit=50`)).items));
  const replay = (event: Event) => {
    event.preventDefault();
    const from = String(new FormData(event.currentTarget as HTMLFormElement).get("from") ?? "");
    void act(async () => {
      const r = await c.auth.api<{ enqueued: number }>("POST", `${url}/replay`, replayBody(from));
      setReplayed(`${r.enqueued} events will be sent again.`);
    });
  };
  return (
    <li class="card space-row" data-part="webhook-row" data-webhook-id={h.id}>
      <div>
        <strong>{h.url}</strong> {h.description ? `· ${h.description}` : ""}
        <div class="hint">{h.kinds.join(", ")}</div>
      </div>
      <div class="row-actions">
        <button type="button" data-part="webhook-toggle" onClick={() => void toggle()}>
          {h.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" data-part="webhook-rotate" onClick={() => void rotate()}>
          Rotate secret
        </button>
        <button type="button" data-part="webhook-log" onClick={() => void showLog()}>
          Delivery log
        </button>
        <span class="spacer" />
        <button type="button" class="danger" data-part="webhook-delete" onClick={remove}>
          Delete
        </button>
      </div>
      <form class="fields" data-part="webhook-replay" onSubmit={replay}>
        <label class="wide">
          Replay from an event id or a time
          <input name="from" required placeholder="1765000000000-0 or 2026-12-01 09:00" />
        </label>
        <button type="submit">Replay</button>
      </form>
      {replayed ? <p class="hint">{replayed}</p> : null}
      <p class="error" role="alert" data-part="webhook-error" hidden={!error}>
        {error}
      </p>
      {log ? (
        <table class="deliveries" data-part="webhook-deliveries">
          <thead>
            <tr>
              <th>Event</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Answer</th>
              <th>Latency</th>
              <th>Last attempt</th>
            </tr>
          </thead>
          <tbody>
            {log.map((d) => (
              <tr key={d.event_id} data-status={d.status}>
                <td>{d.event_id}</td>
                <td>{d.kind ?? ""}</td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.last_error ?? d.last_status ?? ""}</td>
                <td>{d.last_latency_ms === null ? "" : `${d.last_latency_ms} ms`}</td>
                <td>{d.last_attempt_at ? dateTime(d.last_attempt_at) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </li>
  );
}
