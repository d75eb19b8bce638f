import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Agent, Group, Strategy } from "../protocol";
import { botChoice, BotSelect, useBots } from "./BotFirstField";
import { useFormAction } from "./formAction";
import { t } from "../i18n";

// Admins only (the header shows the link to admins; the REST routes refuse others with 403).
// What a strategy means is the routing engine's (structures.md, "Groups").
export const STRATEGIES: { value: Strategy; label: string }[] = [
  { value: "manual", label: "Manual (agents claim)" },
  { value: "round_robin", label: "Round robin" },
  { value: "least_loaded", label: "Least loaded" },
];

/** The auto-transfer field of a group form: seconds, or null (empty: off). */
export function autoTransfer(data: FormData): number | null {
  const raw = String(data.get("auto_transfer_seconds") ?? "").trim();
  return raw ? Number(raw) : null;
}

function AutoTransferField({ value }: { value?: number | null }) {
  return (
    <label>
      Auto-transfer after (s)
      <input
        name="auto_transfer_seconds"
        type="number"
        min={1}
        max={3600}
        placeholder="off"
        data-part="group-auto-transfer"
        defaultValue={value ? String(value) : ""}
        title="A conversation the router assigned and its agent has not answered within this many seconds goes to another member. Empty: off."
      />
    </label>
  );
}

/** The checked member boxes of a members form, as agent ids. */
export function checkedIds(data: FormData): string[] {
  return data.getAll("agent_ids").map(String);
}

export function GroupsPage({ c }: { c: Console }) {
  const {
    busy,
    error: formError,
    setError: setFormError,
    submit: create,
  } = useFormAction(async (data) => {
    await c.auth.api<Group>("POST", "/groups", {
      name: String(data.get("name") ?? "").trim(),
      strategy: String(data.get("strategy") ?? "manual"),
      sticky: data.get("sticky") === "on",
      auto_transfer_seconds: autoTransfer(data),
      bot_agent_id: botChoice(data),
    });
    await c.loadGroups();
  });
  const { bots, error: botsError } = useBots(c);
  useEffect(() => {
    void c.loadAgents();
    c.loadGroups().catch((err: unknown) => setFormError(errorText(err)));
  }, []);

  return (
    <main class="admin">
      <h1>{t("groups")}</h1>
      <form class="card admin-form" data-part="group-form" onSubmit={create}>
        <h2>Add a group</h2>
        <div class="fields">
          <label>
            Name
            <input name="name" required maxLength={80} autocomplete="off" />
          </label>
          <label>
            Routing
            <StrategySelect name="strategy" value="manual" />
          </label>
          <label class="check">
            <input type="checkbox" name="sticky" /> Sticky (a returning visitor gets the same
            agent)
          </label>
          <AutoTransferField />
          <BotSelect bots={bots} current={null} part="group-bot-new" />
        </div>
        <p class="error" role="alert" data-part="group-form-error" hidden={!formError}>
          {formError}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Add group
        </button>
      </form>
      <p class="error" role="alert" data-part="bots-error" hidden={!botsError}>
        Could not load the bots: {botsError}
      </p>
      <ul class="space-list">
        {c.groups.map((g) => (
          <GroupRow key={g.id} c={c} group={g} bots={bots} />
        ))}
      </ul>
    </main>
  );
}

function StrategySelect({ name, value }: { name: string; value: Strategy }) {
  return (
    <select name={name} data-part="group-strategy">
      {STRATEGIES.map((s) => (
        <option key={s.value} value={s.value} selected={s.value === value}>
          {s.label}
        </option>
      ))}
    </select>
  );
}

function GroupRow({ c, group, bots }: { c: Console; group: Group; bots: Agent[] }) {
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");

  const replace = (updated: Group) => {
    c.setGroups(c.groups.map((g) => (g.id === updated.id ? updated : g)));
    c.changed();
  };
  const url = `/groups/${encodeURIComponent(group.id)}`;

  const act = async (work: () => Promise<void>, done: string) => {
    setError("");
    setSaved("");
    try {
      await work();
      setSaved(done);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const save = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    void act(async () => {
      replace(
        await c.auth.api<Group>("PATCH", url, {
          name: String(data.get("name") ?? "").trim(),
          strategy: String(data.get("strategy") ?? group.strategy),
          sticky: data.get("sticky") === "on",
          auto_transfer_seconds: autoTransfer(data),
          bot_agent_id: botChoice(data),
        }),
      );
    }, "Saved.");
  };

  const saveMembers = (event: Event) => {
    event.preventDefault();
    const ids = checkedIds(new FormData(event.currentTarget as HTMLFormElement));
    void act(async () => {
      replace(await c.auth.api<Group>("PUT", `${url}/members`, { agent_ids: ids }));
      void c.loadAgents(); // their group_ids changed
    }, "Members saved.");
  };

  const remove = async () => {
    if (
      !window.confirm(
        `Delete the group ${group.name}? Spaces using it as their default group go to the whole team.`,
      )
    ) {
      return;
    }
    await act(async () => {
      await c.auth.api("DELETE", url);
      c.setGroups(c.groups.filter((g) => g.id !== group.id));
      c.changed();
    }, "");
  };

  const agents = [...c.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <li class="card space-row" data-part="group-row" data-group-id={group.id}>
      <div class="space-head">
        <h2 data-part="group-name">{group.name}</h2>
        <span class="hint" data-part="group-count">
          {group.agent_ids.length === 1 ? "1 member" : `${group.agent_ids.length} members`}
        </span>
      </div>
      <form class="space-edit" data-part="group-edit" onSubmit={save}>
        <label>
          Name
          <input name="name" required maxLength={80} defaultValue={group.name} />
        </label>
        <label>
          Routing
          <StrategySelect name="strategy" value={group.strategy} />
        </label>
        <label class="check">
          <input type="checkbox" name="sticky" data-part="group-sticky" defaultChecked={group.sticky} />{" "}
          Sticky
        </label>
        <AutoTransferField value={group.auto_transfer_seconds} />
        <BotSelect bots={bots} current={group.bot_agent_id} part="group-bot" />
        <button type="submit">Save</button>
      </form>
      <form class="group-members" data-part="group-members" onSubmit={saveMembers}>
        <fieldset>
          <legend class="label">Members</legend>
          {agents.map((a) => (
            <label key={a.id} class="check">
              <input
                type="checkbox"
                name="agent_ids"
                value={a.id}
                data-part="group-member"
                defaultChecked={group.agent_ids.includes(a.id)}
              />{" "}
              {a.name}
            </label>
          ))}
        </fieldset>
        <button type="submit" data-part="group-members-save">
          Save members
        </button>
      </form>
      <div class="row-actions">
        <span class="hint" role="status">
          {saved}
        </span>
        <span class="spacer" />
        <button type="button" class="danger" data-part="group-delete" onClick={() => void remove()}>
          Delete
        </button>
      </div>
      <p class="error" role="alert" data-part="group-error" hidden={!error}>
        {error}
      </p>
    </li>
  );
}
