import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { type Agent, isBot, type Role } from "../protocol";
import { t } from "../i18n";

export function AgentsPage({ c }: { c: Console }) {
  const [formError, setFormError] = useState("");
  const [busy, setBusy] = useState(false);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});
  useEffect(() => {
    void c.loadAgents();
  }, []);
  const setRowError = (id: string, text: string) => setRowErrors((old) => ({ ...old, [id]: text }));

  const create = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const max = Number(data.get("max_concurrent_chats") || 5);
    setBusy(true);
    setFormError("");
    try {
      await c.auth.api<Agent>("POST", "/agents", {
        name: String(data.get("name") ?? "").trim(),
        email: String(data.get("email") ?? "").trim(),
        password: String(data.get("password") ?? ""),
        role: String(data.get("role") ?? "agent"),
        max_concurrent_chats: max,
      });
      form.reset();
      await c.loadAgents();
    } catch (err) {
      setFormError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const changeRole = async (agent: Agent, role: Role) => {
    setRowError(agent.id, "");
    try {
      const updated = await c.auth.api<Agent>("PATCH", `/agents/${encodeURIComponent(agent.id)}`, {
        role,
      });
      c.agents.set(updated.id, { ...updated, is_online: agent.is_online });
      if (updated.id === c.me?.id) c.setMe(updated);
    } catch (err) {
      setRowError(agent.id, errorText(err));
    }
    c.changed(); // also puts the select back when the change was refused
  };

  // A lost device: the agent's two-factor sign-in is dropped and its sign-ins end (README
  // "Two-factor sign-in"); it signs in with the password, or enrols anew where it is required.
  const resetTwoFactor = async (agent: Agent) => {
    if (!window.confirm(`Reset the two-factor sign-in of ${agent.name}? They are signed out.`))
      return;
    setRowError(agent.id, "");
    try {
      await c.auth.api("POST", `/agents/${encodeURIComponent(agent.id)}/two-factor/reset`);
      setRowError(agent.id, "Two-factor sign-in reset.");
    } catch (err) {
      setRowError(agent.id, errorText(err));
    }
  };

  const remove = async (agent: Agent) => {
    if (!window.confirm(`Delete ${agent.name} (${agent.email})? They can no longer sign in.`))
      return;
    setRowError(agent.id, "");
    try {
      // A bot through its own route: spaces and groups that named it go back to people.
      const kind = isBot(agent) ? "bots" : "agents";
      await c.auth.api("DELETE", `/${kind}/${encodeURIComponent(agent.id)}`);
      c.agents.delete(agent.id);
      c.changed();
    } catch (err) {
      setRowError(agent.id, errorText(err));
    }
  };

  const agents = [...c.agents.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <main class="admin">
      <h1>{t("agents")}</h1>
      <form class="card admin-form" data-part="agent-form" onSubmit={create}>
        <h2>Add an agent</h2>
        <div class="fields">
          <label>
            Name
            <input name="name" required maxLength={120} autocomplete="off" />
          </label>
          <label>
            Email
            <input name="email" type="email" required autocomplete="off" />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              required
              minLength={10}
              autocomplete="new-password"
            />
          </label>
          <label>
            Role
            <select name="role">
              <option value="agent">Agent</option>
              <option value="supervisor">Supervisor</option>
              <option value="admin">Admin</option>
            </select>
          </label>
          <label>
            Max concurrent chats
            <input name="max_concurrent_chats" type="number" min={1} max={1000} defaultValue="5" />
          </label>
        </div>
        <p class="error" role="alert" data-part="agent-form-error" hidden={!formError}>
          {formError}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Add agent
        </button>
      </form>
      <p class="error" role="alert" data-part="agents-error" hidden={!c.agentsError}>
        Could not load the agents: {c.agentsError}
      </p>
      <table class="admin-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Status</th>
            <th>Role</th>
            <th>Load</th>
            <th>Max chats</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.id} data-part="agent-row" data-agent-id={a.id}>
              <td>
                {a.name}
                {a.id === c.me?.id ? <span class="hint"> (you)</span> : null}
              </td>
              <td>{a.email}</td>
              {isBot(a) ? (
                // A bot is never online nor offline as people are, has no role to change and no
                // capacity (README "Bots"); its account is on the Built-in bot page and in REST.
                <>
                  <td>
                    <span class="channel" data-part="agent-bot">
                      {t("botBadge")}
                    </span>
                  </td>
                  <td>{t("botBadge")}</td>
                  <td data-part="agent-load">–</td>
                  <td>–</td>
                </>
              ) : (
                <AgentCells a={a} changeRole={changeRole} />
              )}
              <td>
                <button
                  type="button"
                  class="danger"
                  data-part="agent-delete"
                  onClick={() => void remove(a)}
                >
                  Delete
                </button>
                {a.id === c.me?.id || isBot(a) ? null : (
                  <button
                    type="button"
                    class="quiet"
                    data-part="agent-reset-two-factor"
                    onClick={() => void resetTwoFactor(a)}
                  >
                    Reset 2FA
                  </button>
                )}
                {rowErrors[a.id] ? (
                  <p class="error small" role="alert">
                    {rowErrors[a.id]}
                  </p>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

/** A person's status, role, load and capacity cells. */
function AgentCells({
  a,
  changeRole,
}: {
  a: Agent;
  changeRole: (a: Agent, role: Role) => Promise<void>;
}) {
  return (
    <>
      <td>{a.is_online ? "Online" : "Offline"}</td>
      <td>
        <select
          data-part="agent-role"
          aria-label={`Role of ${a.name}`}
          value={a.role}
          onChange={(e) => void changeRole(a, (e.currentTarget as HTMLSelectElement).value as Role)}
        >
          <option value="agent">Agent</option>
          <option value="supervisor">Supervisor</option>
          <option value="admin">Admin</option>
        </select>
      </td>
      <td data-part="agent-load">
        {a.active_chats ?? 0}/{a.max_concurrent_chats}
      </td>
      <td>{a.max_concurrent_chats}</td>
    </>
  );
}
