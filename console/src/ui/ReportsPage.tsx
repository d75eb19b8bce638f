import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import {
  type Dimension,
  type Figures,
  type Interval,
  type Report,
  type ReportForm,
  defaultForm,
  downloadCsv,
  duration,
  reportQuery,
} from "../reports";

/** Reports (README "Reports"): conversations opened, missed and closed, first response and
 * resolution times, by day or week in the organization's time zone, as SVG bars, a breakdown
 * table and a CSV download. Admins and supervisors see the organization; agents their own figures
 * (the server decides: it answers an agent's report with their conversations only). A module of
 * its own: the "reports" chunk (ui/reports.ts), loaded the first time it opens. */
export function ReportsPage({ c }: { c: Console }) {
  const admin = c.me?.role === "admin";
  // Supervisors see the organization's figures too; only admins change its time zone.
  const seesAll = admin || c.me?.role === "supervisor";
  const [form, setForm] = useState<ReportForm>(defaultForm);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState("");
  const [zoneSaves, setZoneSaves] = useState(0); // a new time zone cuts the days anew
  const query = reportQuery(form);
  useEffect(() => {
    // Only the latest query's answer is shown: an earlier one may come back after it.
    let latest = true;
    setError("");
    c.auth
      .api<Report>("GET", `/reports/conversations?${query}`)
      .then((r) => latest && setReport(r))
      .catch((err: unknown) => latest && setError(errorText(err)));
    return () => {
      latest = false;
    };
  }, [query, zoneSaves]);
  useEffect(() => {
    if (seesAll) c.loadGroups().catch(() => undefined); // the group filter waits for them
  }, [seesAll]);
  const set = (change: Partial<ReportForm>) => setForm((now) => ({ ...now, ...change }));
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  const save = () =>
    downloadCsv(c, query, `conversations-${form.from}-${form.to}.csv`).catch((err: unknown) =>
      setError(errorText(err)),
    );
  return (
    <section class="page reports" data-part="reports-page">
      <h2>Reports</h2>
      <div class="fields">
        <label>
          From
          <input
            type="date"
            data-part="report-from"
            value={form.from}
            onChange={(e) => set({ from: value(e) })}
          />
        </label>
        <label>
          To
          <input
            type="date"
            data-part="report-to"
            value={form.to}
            onChange={(e) => set({ to: value(e) })}
          />
        </label>
        <Choice
          label="Periods"
          part="report-interval"
          value={form.interval}
          options={[["day", "Days"], ["week", "Weeks"]]}
          pick={(v) => set({ interval: v as Interval })}
        />
        <Choice
          label="Space"
          part="report-space"
          value={form.spaceId}
          options={[["", "All spaces"], ...c.spaces.map((s): Option => [s.id, s.name])]}
          pick={(v) => set({ spaceId: v })}
        />
        {seesAll ? (
          <>
            <Choice
              label="Group"
              part="report-group"
              value={form.groupId}
              options={[["", "All groups"], ...c.groups.map((g): Option => [g.id, g.name])]}
              pick={(v) => set({ groupId: v })}
            />
            <Choice
              label="Agent"
              part="report-agent"
              value={form.agentId}
              options={[
                ["", "All agents"],
                ...[...c.agents.values()].map((a): Option => [a.id, a.name]),
              ]}
              pick={(v) => set({ agentId: v })}
            />
          </>
        ) : null}
        <Choice
          label="Break down by"
          part="report-by"
          value={form.by}
          options={[["", "Nothing"], ["space", "Space"], ["group", "Group"], ["agent", "Agent"]]}
          pick={(v) => set({ by: v as Dimension | "" })}
        />
      </div>
      <p class="hint" data-part="report-scope">
        {report ? `${whose(report, seesAll)}, days in ${report.time_zone}. ` : ""}
        <button type="button" data-part="report-csv" onClick={() => void save()}>
          Download CSV
        </button>
      </p>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {report ? <ReportBody report={report} /> : <p>Loading…</p>}
      {admin ? <TimeZoneField c={c} saved={() => setZoneSaves((n) => n + 1)} /> : null}
    </section>
  );
}

function ReportBody({ report }: { report: Report }) {
  const t = report.total;
  const labels = report.periods.map((p) => p.start);
  return (
    <>
      <dl class="report-tiles" data-part="report-totals">
        {tiles(t).map(([name, part, shown]) => (
          <div key={part}>
            <dt>{name}</dt>
            <dd data-part={`total-${part}`}>{shown}</dd>
          </div>
        ))}
      </dl>
      <Bars
        title="Conversations opened (missed in red)"
        part="chart-opened"
        labels={labels}
        values={report.periods.map((p) => p.opened)}
        marked={report.periods.map((p) => p.missed)}
        show={String}
      />
      <Bars
        title="First response time, median"
        part="chart-frt"
        labels={labels}
        values={report.periods.map((p) => p.first_response_median_seconds ?? 0)}
        show={duration}
      />
      {report.by ? <Breakdown report={report} /> : null}
    </>
  );
}

/** The window's totals as (name, data-part, text). */
function tiles(t: Figures): [string, string, string][] {
  return [
    ["Opened", "opened", String(t.opened)],
    ["Answered", "answered", String(t.answered)],
    ["Missed", "missed", String(t.missed)],
    ["Closed", "closed", String(t.closed)],
    ["First response (median)", "frt-median", duration(t.first_response_median_seconds)],
    ["First response (p90)", "frt-p90", duration(t.first_response_p90_seconds)],
    ["Resolution (median)", "resolution-median", duration(t.resolution_median_seconds)],
    ["Resolution (p90)", "resolution-p90", duration(t.resolution_p90_seconds)],
    ["Messages per conversation", "messages", t.messages_per_conversation?.toFixed(2) ?? "–"],
    ["Rated good", "satisfaction", satisfaction(t)],
  ];
}

/** "75% of 4" ratings good; "–" when nobody rated. */
function satisfaction(t: Figures): string {
  if (t.share_good === null) return "–";
  return `${Math.round(t.share_good * 100)}% of ${t.rated_good + t.rated_bad}`;
}

function whose(report: Report, seesAll: boolean): string {
  return report.agent_id && !seesAll ? "Your conversations" : "All conversations";
}

type Option = [value: string, text: string];

function Choice(props: {
  label: string;
  part: string;
  value: string;
  options: Option[];
  pick: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select
        data-part={props.part}
        value={props.value}
        onChange={(e) => props.pick((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

const CHART_HEIGHT = 120;

/** A bar per period, in an SVG scaled to the page's width; each bar's <title> says its figure
 * (a tooltip, and what a screen reader reads). `marked` is drawn over the bar's base in red. */
function Bars(props: {
  title: string;
  part: string;
  labels: string[];
  values: number[];
  marked?: number[];
  show: (n: number) => string;
}) {
  const { labels, values, marked } = props;
  const top = Math.max(1, ...values);
  const width = Math.max(1, values.length) * 10;
  const h = (n: number) => (n / top) * (CHART_HEIGHT - 4);
  return (
    <figure class="report-chart" data-part={props.part}>
      <figcaption>
        {props.title}{" "}
        <span class="hint">(highest {props.show(Math.max(0, ...values))})</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${CHART_HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={props.title}
      >
        {values.map((v, i) => (
          <g key={labels[i]} data-part="bar" data-value={v}>
            <title>{`${labels[i]}: ${props.show(v)}`}</title>
            <rect x={i * 10 + 1} y={CHART_HEIGHT - h(v)} width={8} height={h(v)} class="bar" />
            {marked?.[i] ? (
              <rect
                x={i * 10 + 1}
                y={CHART_HEIGHT - h(marked[i])}
                width={8}
                height={h(marked[i])}
                class="bar marked"
              />
            ) : null}
          </g>
        ))}
      </svg>
      <div class="report-axis hint">
        <span>{labels[0]}</span>
        <span>{labels[labels.length - 1]}</span>
      </div>
    </figure>
  );
}

const COLUMNS: [string, (f: Figures) => string][] = [
  ["Opened", (f) => String(f.opened)],
  ["Missed", (f) => String(f.missed)],
  ["Closed", (f) => String(f.closed)],
  ["First response (median)", (f) => duration(f.first_response_median_seconds)],
  ["Resolution (median)", (f) => duration(f.resolution_median_seconds)],
  ["Messages / conversation", (f) => f.messages_per_conversation?.toFixed(2) ?? "–"],
];

function Breakdown({ report }: { report: Report }) {
  const none = report.by === "agent" ? "Unassigned" : report.by === "group" ? "No group" : "–";
  return (
    <table class="admin-table" data-part="report-breakdown">
      <thead>
        <tr>
          <th>{report.by === "agent" ? "Agent" : report.by === "group" ? "Group" : "Space"}</th>
          {COLUMNS.map(([name]) => (
            <th key={name}>{name}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {report.breakdown.map((row) => (
          <tr key={row.key ?? "none"} data-part="breakdown-row" data-key={row.key ?? ""}>
            <td>{row.key ? (row.name ?? row.key) : none}</td>
            {COLUMNS.map(([name, show]) => (
              <td key={name}>{show(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Admins: the organization's time zone, in which reports cut days (PATCH /organization). */
function TimeZoneField({ c, saved }: { c: Console; saved: () => void }) {
  const [zone, setZone] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    c.auth
      .api<{ time_zone: string }>("GET", "/organization")
      .then((o) => setZone(o.time_zone))
      .catch((err: unknown) => setNote(errorText(err)));
  }, []);
  const zones =
    (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.(
      "timeZone",
    ) ?? [];
  const save = (e: Event) => {
    e.preventDefault();
    c.auth
      .api<{ time_zone: string }>("PATCH", "/organization", { time_zone: zone })
      .then((o) => {
        setNote(`Saved: reports cut days in ${o.time_zone}.`);
        saved();
      })
      .catch((err: unknown) => setNote(errorText(err)));
  };
  return (
    <form class="fields" onSubmit={save}>
      <label class="wide">
        The organization's time zone (IANA, e.g. Europe/Paris)
        <input
          data-part="report-time-zone"
          list="report-zones"
          value={zone}
          onInput={(e) => setZone((e.currentTarget as HTMLInputElement).value)}
        />
        <datalist id="report-zones">
          {zones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </label>
      <button type="submit" data-part="report-time-zone-save">
        Save
      </button>
      {note ? <p class="hint" role="status">{note}</p> : null}
    </form>
  );
}
