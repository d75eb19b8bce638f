import { useEffect, useState } from "preact/hooks";
import type { Console } from "../console";
import type { FloorAgent, FloorFigures } from "../protocol";

/** The live floor (README "The floor view"): per space and group, who waits and for how long,
 * what is being served, who is here and how loaded, and the last hour's first responses. The
 * service pushes the whole floor as a `floor` frame after `floor.subscribe`, again at most once
 * a second when it changes (live.ts keeps the latest in c.floor); nothing is polled. Waits tick
 * here between frames. Supervisors and admins; a module of its own: the "floor" chunk. */
export function FloorPage({ c }: { c: Console }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    c.conn.send({ type: "floor.subscribe" });
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(tick);
      c.conn.send({ type: "floor.unsubscribe" });
      c.floor = null;
    };
  }, []);
  const floor = c.floor;
  if (!floor) {
    return (
      <main class="admin" data-part="floor-loading" aria-busy="true">
        <p class="hint">Loading the floor…</p>
      </main>
    );
  }
  // The server's clock said `at` when it rendered: waits are counted on it, not this machine's.
  const skew = Date.parse(floor.at) - Date.now();
  // The cells' titles: "Hal 1/2, Tia 0/3", the agents with that status (of a group: its
  // members; no group: anyone), each with their load against capacity.
  const who = (group: string | null | undefined, status: string) =>
    floor.agents
      .filter((a) => a.status === status && (!group || a.group_ids.includes(group)))
      .map((a) => `${a.name} ${a.load}/${a.capacity}`)
      .join(", ");
  const wait = (f: FloorFigures) => since(f.longest_waiting_since, now + skew);
  const t = floor.total;
  return (
    <section class="page reports" data-part="floor-page">
      <h2>Floor</h2>
      <p class="hint" data-part="floor-at">
        Live · first responses over the last {floor.window_seconds / 60} minutes
      </p>
      <dl class="report-tiles" data-part="floor-totals">
        {(
          [
            ["Waiting", "waiting", String(t.waiting)],
            ["Longest wait", "longest", wait(t)],
            ["Active", "active", String(t.active)],
            ["Agents online", "online", String(t.agents_online)],
            ["Away", "away", String(t.agents_away)],
            ["First response (median)", "frt-median", seconds(t.first_response.median_seconds)],
            ["First response (p90)", "frt-p90", seconds(t.first_response.p90_seconds)],
          ] as const
        ).map(([name, part, shown]) => (
          <div key={part}>
            <dt>{name}</dt>
            <dd data-part={`floor-total-${part}`}>{shown}</dd>
          </div>
        ))}
      </dl>
      <table class="admin-table" data-part="floor-spaces">
        <thead>
          <tr>
            <th>Space / group</th>
            <th>Waiting</th>
            <th>Longest wait</th>
            <th>Active</th>
            <th>Online</th>
            <th>Away</th>
            <th>First response median / p90 (n)</th>
          </tr>
        </thead>
        <tbody>
          {floor.spaces.flatMap((s) => [
            row(s, s.name, "floor-space", s.space_id),
            ...s.groups.map((g) =>
              row(
                g,
                g.name ?? (g.group_id ? "(deleted group)" : "No group"),
                "floor-group",
                `${s.space_id}:${g.group_id ?? ""}`,
                g.group_id,
              ),
            ),
          ])}
        </tbody>
      </table>
      <h3>Agents</h3>
      <table class="admin-table" data-part="floor-agents">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Status</th>
            <th>Load</th>
          </tr>
        </thead>
        <tbody>
          {floor.agents.map((a) => (
            <AgentRow key={a.id} a={a} />
          ))}
        </tbody>
      </table>
    </section>
  );

  // A row of the spaces' table (a plain function, not a component: its rows keep their
  // elements from one frame to the next).
  function row(f: FloorFigures, label: string, part: string, id: string, group?: string | null) {
    return (
      <tr key={id} data-part={part} data-id={id} class={part}>
        <th scope="row">{label}</th>
        <td data-part="waiting">{f.waiting}</td>
        <td data-part="longest">{wait(f)}</td>
        <td data-part="active">{f.active}</td>
        <td data-part="online" title={who(group, "online")}>
          {f.agents_online}
        </td>
        <td data-part="away" title={who(group, "away")}>
          {f.agents_away}
        </td>
        <td data-part="frt">
          {seconds(f.first_response.median_seconds)} / {seconds(f.first_response.p90_seconds)} (
          {f.first_response.count})
        </td>
      </tr>
    );
  }
}

function AgentRow({ a }: { a: FloorAgent }) {
  return (
    <tr data-part="floor-agent" data-id={a.id} data-status={a.status}>
      <td>{a.name}</td>
      <td>{a.status === "online" ? "Online" : a.status === "away" ? "Away" : "Offline"}</td>
      <td>
        <meter min={0} max={Math.max(a.capacity, 1)} value={a.load} high={a.capacity} />{" "}
        <span data-part="load">
          {a.load}/{a.capacity}
        </span>
      </td>
    </tr>
  );
}

/** "–", "42 s", "3:07" or "1:02:03": how long since `time`, on the server's clock. */
function since(time: string | null, serverNow: number): string {
  if (!time) return "–";
  return clock(Math.max(0, (serverNow - Date.parse(time)) / 1000));
}

function seconds(value: number | null): string {
  return value === null ? "–" : clock(value);
}

function clock(total: number): string {
  const s = Math.round(total);
  if (s < 60) return `${s} s`;
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
