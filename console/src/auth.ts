// The sign-in: tokens in localStorage, refreshed quietly before the access token expires and
// after a 401. Refresh tokens rotate and are single-use (structures.md "Auth"): presenting a used
// one again revokes the whole sign-in. So every refresh stores the new pair at once, concurrent
// callers share one refresh, and tabs of the same browser (which share the pair through
// localStorage) take a Web Lock around it and adopt a pair another tab already rotated rather
// than spending the old one again.

import { ApiError, type Fetch, request, tokenTimes } from "./api";
import type { Agent, SignedIn, Tokens } from "./protocol";

export interface Session extends Tokens {
  agent: Agent;
  /** The server's clock minus ours when the access token was issued (from its `iat`): expiry
   * is judged on the server's clock, so a laptop clock that is off does not refresh in a loop. */
  skew_ms?: number;
}

export type RefreshResult = "ok" | "ended" | "failed";

export interface AuthHooks {
  /** The sign-in is over (refresh refused, signed out in another tab): show the sign-in form. */
  ended(reason: string): void;
  /** New tokens from another tab; `agentChanged` when it signed in as someone else. */
  adopted(agentChanged: boolean): void;
}

export interface AuthEnv {
  storage: Storage | null;
  fetch: Fetch;
  now(): number;
  locks?: LockManager | undefined;
}

export const STORE_KEY = "chat-console:session";
const LOCK_NAME = "chat-console:refresh";
// Refresh this long before the access token expires (it lives 15 minutes by default; a quarter
// of its lifetime when that is shorter), minus up to a tenth of the lead as jitter, so that two
// tabs rarely reach for the lock at the same moment.
const REFRESH_AHEAD_MS = 60_000;
// A token this close to expiry is refreshed before it is used.
const STALE_MS = 15_000;
const MIN_WAIT_MS = 5_000;
// A refresh that failed for a reason other than refusal (network, 503) is tried again after this.
const RETRY_MS = 10_000;
export const SESSION_ENDED = "Your session ended. Please sign in again.";

function parseSession(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.access_token === "string" && typeof s.refresh_token === "string" && s.agent) {
      return s as Session;
    }
  } catch {
    // unreadable: as if signed out
  }
  return null;
}

export class Auth {
  session: Session | null = null;
  private inflight: Promise<RefreshResult> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly env: AuthEnv,
    private readonly hooks: AuthHooks,
  ) {}

  /** Take up the sign-in stored by an earlier page; false when there is none. */
  restore(): boolean {
    this.session = this.read();
    if (this.session) this.schedule();
    return this.session !== null;
  }

  /** Throws ApiError two_factor_code_required or two_factor_required (with the token of the
   * next step in `details`) when the password is right but a second factor is owed. */
  async signIn(email: string, password: string): Promise<Agent> {
    return this.keep(
      await request<SignedIn>(this.env.fetch, "POST", "/auth/login", { email, password }),
    );
  }

  /** The sign-in's second step: a code from the authenticator app, or a recovery code. */
  async secondFactor(
    challenge_token: string,
    proof: { code: string } | { recovery_code: string },
  ): Promise<Agent> {
    const path = "/auth/login/second-factor";
    return this.keep(
      await request<SignedIn>(this.env.fetch, "POST", path, { challenge_token, ...proof }),
    );
  }

  /** A call with a token of a sign-in step (an enrolment token) rather than the session's. */
  withToken<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    return request<T>(this.env.fetch, method, path, body, token);
  }

  /** Keep a sign-in the server issued (login, second factor, enrolment confirmed). */
  keep(r: SignedIn): Agent {
    this.issued({ access_token: r.access_token, refresh_token: r.refresh_token, agent: r.agent });
    return r.agent;
  }

  /** End the sign-in on the server (best effort) and forget it here. */
  async signOut(): Promise<void> {
    const s = this.session;
    this.forget();
    if (!s) return;
    try {
      await request(
        this.env.fetch,
        "POST",
        "/auth/logout",
        { refresh_token: s.refresh_token },
        s.access_token,
      );
    } catch {
      // Already ended, or offline: the tokens are gone from this browser either way.
    }
  }

  /** Keep the stored agent current (role, name, accepting_chats). */
  setAgent(agent: Agent): void {
    if (this.session) this.store({ ...this.session, agent });
  }

  token(): string | null {
    return this.session?.access_token ?? null;
  }

  /** Milliseconds until the access token expires (Infinity when its expiry is unreadable). */
  remaining(): number {
    const times = this.session ? tokenTimes(this.session.access_token) : null;
    const now = this.env.now() + (this.session?.skew_ms ?? 0);
    return times ? times.exp * 1000 - now : Number.POSITIVE_INFINITY;
  }

  /** How long before expiry to refresh: a minute, or a quarter of a shorter lifetime. */
  private lead(): number {
    const times = this.session ? tokenTimes(this.session.access_token) : null;
    if (!times) return REFRESH_AHEAD_MS;
    return Math.min(REFRESH_AHEAD_MS, ((times.exp - times.iat) * 1000) / 4);
  }

  /** Refresh first when the token is about to expire (timers sleep with the laptop). */
  async fresh(): Promise<void> {
    if (this.session && this.remaining() < Math.min(STALE_MS, this.lead())) await this.refresh();
  }

  /** Trade the refresh token for a new pair. One at a time, however many callers ask. */
  refresh(): Promise<RefreshResult> {
    if (!this.inflight) {
      const run = () => this.refreshNow();
      const locks = this.env.locks;
      const p: Promise<RefreshResult> = locks
        ? (locks.request(LOCK_NAME, run) as unknown as Promise<RefreshResult>)
        : run();
      this.inflight = p.finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** An authenticated call; a 401 refreshes the token once and retries. */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    await this.fresh();
    const token = this.token();
    if (!token) throw new ApiError(401, "signed_out", SESSION_ENDED);
    try {
      return await request<T>(this.env.fetch, method, path, body, token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      // Another caller may have refreshed meanwhile: then just use its token.
      if (this.token() === token) {
        const result = await this.refresh();
        if (result === "ended") throw new ApiError(401, "signed_out", SESSION_ENDED);
        if (result === "failed") throw err;
      }
      const again = this.token();
      if (!again) throw new ApiError(401, "signed_out", SESSION_ENDED);
      return request<T>(this.env.fetch, method, path, body, again);
    }
  }

  /** A `storage` event for our key: another tab refreshed, signed in or signed out. */
  adopt(raw: string | null): void {
    const next = parseSession(raw);
    const current = this.session;
    if (!current) {
      // Signed in in another tab: this one follows.
      if (next) {
        this.session = next;
        this.schedule();
        this.hooks.adopted(true);
      }
      return;
    }
    if (!next) {
      // Signed out in another tab, or the sign-in ended there.
      this.drop();
      this.hooks.ended(SESSION_ENDED);
      return;
    }
    if (next.refresh_token === current.refresh_token) return;
    this.session = next;
    this.schedule();
    this.hooks.adopted(next.agent.id !== current.agent.id);
  }

  private async refreshNow(): Promise<RefreshResult> {
    const mine = this.session;
    if (!mine) return "ended";
    if (this.env.storage) {
      const stored = this.read();
      if (!stored) {
        // Signed out in another tab (whose storage event may not have arrived yet).
        this.end(SESSION_ENDED);
        return "ended";
      }
      if (stored.refresh_token !== mine.refresh_token) {
        // Another tab rotated the pair: spending ours again would revoke the sign-in.
        this.session = stored;
        this.schedule();
        this.hooks.adopted(stored.agent.id !== mine.agent.id);
        return "ok";
      }
    }
    let tokens: Tokens;
    try {
      tokens = await request<Tokens>(this.env.fetch, "POST", "/auth/refresh", {
        refresh_token: mine.refresh_token,
      });
    } catch (err) {
      if (this.session !== mine) return this.session ? "ok" : "ended";
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        this.end(SESSION_ENDED);
        return "ended";
      }
      this.schedule(RETRY_MS);
      return "failed";
    }
    if (this.session !== mine) return this.session ? "ok" : "ended"; // signed out meanwhile
    this.issued({ ...mine, ...tokens });
    return "ok";
  }

  private end(reason: string): void {
    this.forget();
    this.hooks.ended(reason);
  }

  private forget(): void {
    this.drop();
    try {
      this.env.storage?.removeItem(STORE_KEY);
    } catch {
      // storage disabled
    }
  }

  private drop(): void {
    this.session = null;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Keep a pair just issued by the server (its `iat` is the server's "now"). */
  private issued(session: Session): void {
    const times = tokenTimes(session.access_token);
    this.store({ ...session, skew_ms: times ? times.iat * 1000 - this.env.now() : 0 });
  }

  private store(session: Session): void {
    this.session = session;
    try {
      this.env.storage?.setItem(STORE_KEY, JSON.stringify(session));
    } catch {
      // storage full or disabled: signed in for this page only
    }
    this.schedule();
  }

  private read(): Session | null {
    try {
      return parseSession(this.env.storage?.getItem(STORE_KEY) ?? null);
    } catch {
      return null;
    }
  }

  private schedule(delay?: number): void {
    clearTimeout(this.timer);
    const left = this.remaining();
    if (!this.session || (delay === undefined && !Number.isFinite(left))) return;
    const lead = this.lead();
    // Never sooner than MIN_WAIT_MS: whatever the clocks say, no refresh loop. A token used
    // meanwhile is refreshed on demand (fresh(), or a 401).
    const wait = delay ?? Math.max(MIN_WAIT_MS, left - lead - Math.random() * (lead / 10));
    this.timer = setTimeout(() => void this.refresh(), wait);
  }
}
