import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { t } from "../i18n";
import type { Space } from "../protocol";
import { type RatingsReport, shareText } from "../ratings";

// The space's ratings of the last 30 days (GET /reports/ratings): the share of good ones, and
// per agent (README "Ratings").
export function RatingsSummary({ c, space }: { c: Console; space: Space }) {
  const [report, setReport] = useState<RatingsReport | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    c.ratings.report(space.id).then(setReport, (err: unknown) => setError(errorText(err)));
  }, [c, space.id]);
  return (
    <div class="space-edit ratings" data-part="ratings-summary">
      <span class="label">{t("ratingsTitle")}</span>{" "}
      {error ? (
        <span class="error small">{error}</span>
      ) : report ? (
        <>
          <span data-part="ratings-share">{shareText(report)}</span>
          {report.agents.length ? (
            <ul class="rating-agents">
              {report.agents.map((a) => (
                <li key={a.agent_id ?? "none"} data-part="ratings-agent">
                  {a.name ?? t(a.agent_id ? "formerAgent" : "notClaimed")}: {shareText(a)}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : (
        t("loading")
      )}
    </div>
  );
}
