import type { Console } from "../console";
import { t } from "../i18n";

// The visitor's rating of a conversation, in its view (README "Ratings"): shown once given,
// live (a `rating` frame) or loaded when the conversation opens.
export function RatingLine({ c, threadId }: { c: Console; threadId: string }) {
  const rating = c.ratings.ratingOf(threadId);
  if (!rating) return null;
  return (
    <p class="rating-line" data-part="rating" data-score={rating.score}>
      {t("ratedLine")} <strong>{t(rating.score === "good" ? "ratedGood" : "ratedBad")}</strong>
      {rating.comment ? <>: “{rating.comment}”</> : null}
    </p>
  );
}
