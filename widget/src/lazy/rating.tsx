// The rating of an ended conversation (structures.md "Ratings"): good or bad, one tap, then an
// optional comment. Good/bad rather than 1-5: one tap after a chat gets more answers, and the
// share of satisfied visitors (CSAT) is what teams read anyway. Part of the `loop` chunk
// (loop.tsx), fetched once a conversation has ended; plain props, the texts through t().

import { t } from "../i18n";

export type RatingState = "" | "sending" | "done" | "failed";

export interface RatingProps {
  state: RatingState;
  maxComment: number;
  onRate: (score: "good" | "bad", comment: string) => void;
}

export default function Rating({ state, maxComment, onRate }: RatingProps) {
  if (state === "done") {
    return (
      <p class="panel" data-part="rating-done" role="status">
        {t("rateThanks")}
      </p>
    );
  }
  const rate = (event: Event, score: "good" | "bad") => {
    const form = (event.currentTarget as HTMLButtonElement).form;
    const comment = form?.elements.namedItem("comment") as HTMLTextAreaElement | null;
    onRate(score, comment?.value ?? "");
  };
  return (
    <form class="panel rating" data-part="rating" aria-label={t("rateQuestion")} onSubmit={(e) => e.preventDefault()}>
      <p>{t("rateQuestion")}</p>
      <textarea class="field" name="comment" rows={2} maxLength={maxComment} placeholder={t("rateComment")} aria-label={t("rateComment")} />
      <div class="scores">
        <button type="button" class="primary" data-part="rate-good" disabled={state === "sending"} onClick={(e) => rate(e, "good")}>
          👍 {t("rateGood")}
        </button>
        <button type="button" class="primary" data-part="rate-bad" disabled={state === "sending"} onClick={(e) => rate(e, "bad")}>
          👎 {t("rateBad")}
        </button>
      </div>
      {state === "failed" && <p role="alert">{t("rateFailed")}</p>}
    </form>
  );
}
