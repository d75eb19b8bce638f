// Visitors' ratings (README "Ratings"): a conversation's rating (loaded when it opens, then live
// `rating` frames) and the summary per space and agent (GET /reports/ratings).

import { t } from "./i18n";

type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export interface Rating {
  id: string;
  thread_id: string;
  visitor_id: string;
  agent_id: string | null;
  score: "good" | "bad";
  comment: string | null;
  created_at: string;
}

export interface Counts {
  total: number;
  good: number;
  bad: number;
  share_good: number | null;
}

export interface RatingsReport extends Counts {
  from: string;
  to: string;
  agents: (Counts & { agent_id: string | null; name: string | null })[];
  spaces: (Counts & { space_id: string })[];
}

export class RatingsStore {
  /** null: asked, no rating (404); absent: not asked yet. */
  private ratings = new Map<string, Rating | null>();

  constructor(
    private readonly api: Api,
    private readonly changed: () => void,
  ) {}

  clear(): void {
    this.ratings.clear();
  }

  ratingOf(threadId: string): Rating | null {
    if (!this.ratings.has(threadId)) {
      this.ratings.set(threadId, null);
      void this.api<Rating>("GET", `/threads/${encodeURIComponent(threadId)}/rating`)
        .then((r) => this.add(r))
        .catch(() => undefined) // 404: none yet; a live frame brings a later one
        .finally(() => this.changed());
    }
    return this.ratings.get(threadId) ?? null;
  }

  /** A rating from REST or a `rating` frame. */
  add(rating: Rating): void {
    this.ratings.set(rating.thread_id, rating);
  }

  report(spaceId: string): Promise<RatingsReport> {
    return this.api<RatingsReport>("GET", `/reports/ratings?space_id=${encodeURIComponent(spaceId)}`);
  }
}

/** "75% good (3 of 4)", or "No ratings yet". */
export function shareText(c: Counts): string {
  if (!c.total || c.share_good === null) return t("noRatings");
  return t("ratingShare", { percent: Math.round(c.share_good * 100), good: c.good, total: c.total });
}
