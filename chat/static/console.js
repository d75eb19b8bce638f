// A minimal agent console for the demo: sign in, see the open conversations, claim, reply,
// close. Protocol: /work/shared/CONTRACT.md, "REST" and "WebSocket /ws/agent".
// Text reaches the page only through textContent.
(() => {
  "use strict";

  const STORE_KEY = "chat-demo.console";
  const HEARTBEAT_MS = 20000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  const TYPING_TIMEOUT_MS = 10000;
  const MAX_CHARS = 4000;
  const OPEN_STATUSES = new Set(["unassigned", "active"]);

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function newClientId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function compareIds(a, b) {
    const [am, as] = a.split("-").map(BigInt);
    const [bm, bs] = b.split("-").map(BigInt);
    if (am !== bm) return am < bm ? -1 : 1;
    if (as !== bs) return as < bs ? -1 : 1;
    return 0;
  }

  function timeOf(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime())
      ? ""
      : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  // --- state ----------------------------------------------------------------------------
  let auth = null; // {access_token, refresh_token, agent}
  let refreshing = null; // the one refresh in flight
  let ws = null;
  let welcomed = false;
  let attempt = 0;
  let reconnectTimer = null;
  let heartbeatTimer = null;
  let typingTimer = null;
  let authFailures = 0;
  const spaces = new Map(); // space id -> {id, name}
  const cursors = new Map(); // space id -> last event cursor seen
  const loadedSpaces = new Set(); // spaces whose thread list came from REST
  const threads = new Map(); // thread id -> thread
  const messages = new Map(); // thread id -> Map(message id -> message)
  const pendingReplies = new Map(); // client_id -> {thread_id, content, state, error}
  const unread = new Set(); // thread ids with messages not looked at
  let selectedId = null;

  // --- auth -----------------------------------------------------------------------------
  function saveAuth(value) {
    auth = value;
    try {
      if (value) sessionStorage.setItem(STORE_KEY, JSON.stringify(value));
      else sessionStorage.removeItem(STORE_KEY);
    } catch {
      // storage disabled: signed in for this page only
    }
  }

  function loadAuth() {
    try {
      const raw = sessionStorage.getItem(STORE_KEY);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function request(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (res.status !== 204) {
      try {
        data = await res.json();
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(res.status, err.code || "error", err.message || `HTTP ${res.status}`);
    }
    return data;
  }

  // Refresh tokens rotate, so concurrent callers share one refresh.
  function refreshTokens() {
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const fresh = await request("POST", "/auth/refresh", {
            refresh_token: auth.refresh_token,
          });
          saveAuth({ ...auth, ...fresh });
          return true;
        } catch {
          return false;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  }

  async function api(method, path, body) {
    if (!auth) throw new ApiError(401, "unauthorized", "not signed in");
    try {
      return await request(method, path, body, auth.access_token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      if (!(await refreshTokens())) {
        signOut("Your session ended; please sign in again.");
        throw err;
      }
      return request(method, path, body, auth.access_token);
    }
  }

  async function signIn(email, password) {
    const data = await request("POST", "/auth/login", { email, password });
    saveAuth(data);
    authFailures = 0;
    await start();
  }

  function signOut(reason) {
    const old = auth;
    saveAuth(null);
    stopSocket();
    spaces.clear();
    cursors.clear();
    loadedSpaces.clear();
    threads.clear();
    messages.clear();
    pendingReplies.clear();
    unread.clear();
    selectedId = null;
    if (old) {
      request("POST", "/auth/logout", { refresh_token: old.refresh_token }, old.access_token)
        .catch(() => {});
    }
    show($("app"), false);
    show($("logout"), false);
    show($("login"), true);
    $("whoami").textContent = "";
    setConn("");
    showError($("login-error"), reason || "");
    renderThreads();
    renderThread();
  }

  // --- rendering ------------------------------------------------------------------------
  function setConn(text, isError = false) {
    $("conn").textContent = text;
    $("conn").classList.toggle("is-error", isError);
  }

  function showError(node, text) {
    node.textContent = text;
    show(node, Boolean(text));
  }

  function visitorLabel(thread) {
    const v = thread.visitor || {};
    return v.name || v.email || `Visitor ${String(thread.visitor_id || "").slice(0, 8)}`;
  }

  function assignmentText(thread) {
    if (thread.status === "unassigned") return "waiting for an agent";
    if (thread.status === "active") {
      return thread.assigned_agent_id === auth?.agent?.id ? "yours" : "with another agent";
    }
    return thread.status;
  }

  function activityTime(thread) {
    const t = Date.parse(thread.last_activity_at || thread.created_at || "");
    return Number.isNaN(t) ? 0 : t;
  }

  function renderThreads() {
    const list = $("threads");
    const shown = [...threads.values()]
      .filter((t) => OPEN_STATUSES.has(t.status) || t.id === selectedId)
      .sort((a, b) => activityTime(b) - activityTime(a));
    list.replaceChildren(
      ...shown.map((t) => {
        const item = el("li", "thread-item");
        const button = el("button", "thread-button");
        button.type = "button";
        button.dataset.threadId = t.id;
        button.classList.toggle("is-selected", t.id === selectedId);
        button.classList.toggle("is-unread", unread.has(t.id));
        const top = el("span", "thread-name", visitorLabel(t));
        const bottom = el("span", "thread-sub", "");
        const badge = el("span", `badge status-${t.status}`, assignmentText(t));
        bottom.append(badge, el("span", "thread-time", timeOf(t.last_activity_at)));
        if (spaces.size > 1 && spaces.has(t.space_id)) {
          bottom.append(el("span", "thread-space", spaces.get(t.space_id).name));
        }
        button.append(top, bottom);
        item.append(button);
        return item;
      }),
    );
    show($("threads-empty"), shown.length === 0);
  }

  function renderThread() {
    const thread = selectedId ? threads.get(selectedId) : null;
    show($("thread-none"), !thread);
    show($("thread-open"), Boolean(thread));
    if (!thread) return;
    $("thread-title").textContent = visitorLabel(thread);
    const meta = [`${thread.status} · ${assignmentText(thread)}`];
    if (thread.visitor && thread.visitor.email) meta.push(thread.visitor.email);
    if (thread.visitor && thread.visitor.current_url) meta.push(`on ${thread.visitor.current_url}`);
    $("thread-meta").textContent = meta.join(" · ");
    const open = OPEN_STATUSES.has(thread.status);
    $("claim").disabled = thread.status !== "unassigned";
    $("close").disabled = !open;
    $("reply").disabled = !open;
    $("reply-send").disabled = !open;
    $("reply").placeholder = open
      ? "Reply… (Enter sends, Shift+Enter for a new line)"
      : "This conversation is over.";
  }

  function renderMessages() {
    const list = $("messages");
    if (!selectedId) {
      list.replaceChildren();
      return;
    }
    const store = messages.get(selectedId) || new Map();
    const items = [...store.values()].sort((a, b) => compareIds(a.id, b.id)).map(messageItem);
    for (const [clientId, reply] of pendingReplies) {
      if (reply.thread_id !== selectedId) continue;
      const item = messageItem({
        sender_type: "agent",
        sender_id: auth?.agent?.id,
        content: reply.content,
        created_at: new Date().toISOString(),
        client_id: clientId,
      });
      item.classList.add(reply.state === "failed" ? "is-failed" : "is-sending");
      item.querySelector(".chat-status").textContent =
        reply.state === "failed" ? `not sent: ${reply.error}` : "sending…";
      items.push(item);
    }
    list.replaceChildren(...items);
    list.scrollTop = list.scrollHeight;
  }

  function messageItem(m) {
    const mine = m.sender_type === "agent" && m.sender_id === auth?.agent?.id;
    const item = el("li", `chat-msg from-${m.sender_type}${mine ? " is-mine" : ""}`);
    const meta = el("div", "chat-meta");
    const who = mine ? "You" : m.sender_name || m.sender_type;
    meta.append(
      el("span", "chat-who", who),
      el("span", "chat-time", timeOf(m.created_at)),
      el("span", "chat-status", ""),
    );
    item.append(meta, el("div", "chat-body", m.content));
    return item;
  }

  function setTyping(active) {
    clearTimeout(typingTimer);
    $("typing").textContent = active ? "The visitor is typing…" : "";
    show($("typing"), active);
    if (active) typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
  }

  // --- data -----------------------------------------------------------------------------
  // Live frames always win; a REST list (read from PostgreSQL, which may lag the live log)
  // only adds threads not seen live.
  function upsertThread(thread, fromRest = false) {
    if (!thread || !thread.id) return;
    const old = threads.get(thread.id);
    if (fromRest && old) return;
    threads.set(thread.id, { ...old, ...thread, visitor: thread.visitor || old?.visitor });
    renderThreads();
    if (thread.id === selectedId) renderThread();
  }

  function addMessage(m) {
    let store = messages.get(m.thread_id);
    if (!store) {
      store = new Map();
      messages.set(m.thread_id, store);
    }
    store.set(m.id, m);
    if (m.client_id) pendingReplies.delete(m.client_id);
    const thread = threads.get(m.thread_id);
    if (thread && m.created_at && activityTime(thread) < Date.parse(m.created_at)) {
      thread.last_activity_at = m.created_at;
    }
    if (m.thread_id === selectedId) {
      if (m.sender_type === "visitor") setTyping(false);
      renderMessages();
    } else if (m.sender_type === "visitor") {
      unread.add(m.thread_id);
    }
    renderThreads();
  }

  async function loadThreads(spaceId) {
    try {
      const page = await api(
        "GET",
        `/spaces/${encodeURIComponent(spaceId)}/threads?status=unassigned,active`,
      );
      for (const t of page.items || []) upsertThread(t, true);
    } catch (err) {
      setConn(`Could not load conversations: ${err.message}`, true);
    }
  }

  async function selectThread(id) {
    selectedId = id;
    unread.delete(id);
    showError($("thread-error"), "");
    setTyping(false);
    renderThreads();
    renderThread();
    renderMessages();
    try {
      const [page, full] = await Promise.all([
        api("GET", `/threads/${encodeURIComponent(id)}/messages?limit=50`),
        api("GET", `/threads/${encodeURIComponent(id)}`),
      ]);
      const old = threads.get(id);
      if (old && full && full.visitor) old.visitor = { ...full.visitor, ...old.visitor };
      for (const m of page.items || []) {
        const store = messages.get(id) || new Map();
        messages.set(id, store);
        if (!store.has(m.id)) store.set(m.id, m);
      }
      if (selectedId === id) {
        renderThread();
        renderMessages();
      }
    } catch (err) {
      if (selectedId === id) showError($("thread-error"), err.message);
    }
  }

  // The space an event frame belongs to, for its cursor. Unknown: the cursor is not moved,
  // so a resume replays a little more (never less); replays are harmless here.
  function spaceOf(frame) {
    if (frame.space_id) return frame.space_id;
    if (frame.thread && frame.thread.space_id) return frame.thread.space_id;
    const thread = frame.thread_id ? threads.get(frame.thread_id) : null;
    if (thread && thread.space_id) return thread.space_id;
    return spaces.size === 1 ? [...spaces.keys()][0] : null;
  }

  // --- the socket -----------------------------------------------------------------------
  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN && welcomed) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function subscribe(spaceId) {
    const frame = { type: "subscribe", space_id: spaceId };
    if (cursors.has(spaceId)) frame.cursor = cursors.get(spaceId);
    send(frame);
  }

  function onFrame(frame) {
    if (typeof frame.cursor === "string") {
      const spaceId = spaceOf(frame);
      if (spaceId) cursors.set(spaceId, frame.cursor);
    }
    switch (frame.type) {
      case "welcome":
        welcomed = true;
        attempt = 0;
        authFailures = 0;
        setConn("Connected");
        for (const s of frame.spaces || []) spaces.set(s.id, { ...spaces.get(s.id), ...s });
        for (const spaceId of spaces.keys()) subscribe(spaceId);
        for (const [clientId, reply] of pendingReplies) {
          if (reply.state === "sending") {
            send({
              type: "message",
              thread_id: reply.thread_id,
              client_id: clientId,
              content: reply.content,
            });
          }
        }
        break;
      case "subscribed":
        if (!loadedSpaces.has(frame.space_id)) {
          loadedSpaces.add(frame.space_id);
          loadThreads(frame.space_id);
        }
        break;
      case "thread.new":
      case "thread.updated":
        upsertThread(frame.thread);
        break;
      case "message":
        addMessage(frame);
        break;
      case "typing":
        if (frame.thread_id === selectedId && frame.sender_type === "visitor") {
          setTyping(Boolean(frame.active));
        }
        break;
      case "visitor.updated":
        onVisitor(frame.visitor || {});
        break;
      case "ack":
        onAck(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // presence, pong, and anything newer than this page
    }
  }

  function onVisitor(v) {
    for (const t of threads.values()) {
      if (t.visitor_id !== v.visitor_id) continue;
      t.visitor = { ...t.visitor };
      for (const field of ["name", "email", "current_url"]) {
        if (v[field]) t.visitor[field] = v[field];
      }
    }
    renderThreads();
    renderThread();
  }

  function onAck(frame) {
    if (frame.ref === "message") {
      const reply = pendingReplies.get(frame.client_id);
      if (reply) {
        addMessage({
          id: frame.id,
          thread_id: frame.thread_id,
          sender_type: "agent",
          sender_id: auth.agent.id,
          sender_name: auth.agent.name,
          content: reply.content,
          client_id: frame.client_id,
          created_at: frame.created_at,
        });
      }
    } else if (frame.thread) {
      upsertThread(frame.thread); // claim, close, transfer
    }
  }

  function onError(frame) {
    const text = frame.message || frame.code || "error";
    if (frame.ref === "subscribe" && frame.space_id) {
      if (frame.code !== "unavailable") {
        // The cursor is no longer usable: start the space over from a fresh list.
        cursors.delete(frame.space_id);
        loadedSpaces.delete(frame.space_id);
      }
      setTimeout(() => subscribe(frame.space_id), 1000 + Math.random() * 1000);
      return;
    }
    if (frame.client_id && pendingReplies.has(frame.client_id)) {
      const reply = pendingReplies.get(frame.client_id);
      reply.state = "failed";
      reply.error = text;
      renderMessages();
      return;
    }
    if (frame.ref === "claim" && frame.code === "already_claimed") {
      showError($("thread-error"), "Another agent already claimed this conversation.");
      return;
    }
    showError($("thread-error"), text);
  }

  function connect() {
    reconnectTimer = null;
    if (!auth) return;
    welcomed = false;
    setConn(attempt ? "Reconnecting…" : "Connecting…");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const token = encodeURIComponent(auth.access_token);
    const socket = new WebSocket(`${scheme}//${location.host}/ws/agent?token=${token}`);
    ws = socket;
    socket.addEventListener("open", () => {
      heartbeatTimer = setInterval(() => send({ type: "heartbeat" }), HEARTBEAT_MS);
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string") onFrame(frame);
    });
    socket.addEventListener("close", async (event) => {
      if (ws !== socket) return;
      ws = null;
      welcomed = false;
      clearInterval(heartbeatTimer);
      if (event.code === 4001) {
        // Expired or revoked token: refresh once, then reconnect; else sign in again.
        authFailures += 1;
        if (authFailures <= 2 && (await refreshTokens())) {
          connect();
        } else {
          signOut("Your session ended; please sign in again.");
        }
        return;
      }
      scheduleReconnect();
    });
  }

  function stopSocket() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    clearInterval(heartbeatTimer);
    if (ws) {
      const socket = ws;
      ws = null;
      socket.close(1000, "signed out");
    }
    welcomed = false;
  }

  function scheduleReconnect() {
    if (!auth || reconnectTimer !== null) return;
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    const delay = step / 2 + Math.random() * (step / 2);
    attempt += 1;
    setConn(`Disconnected. Reconnecting in ${Math.ceil(delay / 1000)} s…`, true);
    reconnectTimer = setTimeout(connect, delay);
  }

  async function start() {
    show($("login"), false);
    show($("app"), true);
    show($("logout"), true);
    showError($("login-error"), "");
    $("whoami").textContent = auth.agent ? `${auth.agent.name} <${auth.agent.email}>` : "";
    try {
      const page = await api("GET", "/spaces");
      for (const s of page.items || []) spaces.set(s.id, s);
    } catch (err) {
      if (!auth) return; // signed out by api()
      setConn(`Could not load spaces: ${err.message}`, true);
    }
    renderThreads();
    renderThread();
    connect();
  }

  // --- input ----------------------------------------------------------------------------
  function sendReply() {
    const input = $("reply");
    const content = input.value.trim();
    if (!content || !selectedId) return;
    if ([...content].length > MAX_CHARS) {
      showError($("thread-error"), `A message can be at most ${MAX_CHARS} characters.`);
      return;
    }
    showError($("thread-error"), "");
    const clientId = newClientId();
    pendingReplies.set(clientId, { thread_id: selectedId, content, state: "sending" });
    input.value = "";
    send({ type: "message", thread_id: selectedId, client_id: clientId, content });
    renderMessages(); // not connected: it goes out, same client_id, after the reconnect
  }

  function threadAction(type) {
    if (!selectedId) return;
    showError($("thread-error"), "");
    if (!send({ type, thread_id: selectedId })) {
      showError($("thread-error"), "Not connected; try again in a moment.");
    }
  }

  function init() {
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.target.querySelector("button");
      button.disabled = true;
      showError($("login-error"), "");
      try {
        await signIn($("login-email").value.trim(), $("login-password").value);
        $("login-password").value = "";
      } catch (err) {
        showError(
          $("login-error"),
          err.code === "invalid_credentials" ? "Wrong email or password." : err.message,
        );
      } finally {
        button.disabled = false;
      }
    });
    $("logout").addEventListener("click", () => signOut(""));
    $("threads").addEventListener("click", (event) => {
      const button = event.target.closest("[data-thread-id]");
      if (button) selectThread(button.dataset.threadId);
    });
    $("claim").addEventListener("click", () => threadAction("claim"));
    $("close").addEventListener("click", () => threadAction("close"));
    $("reply-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sendReply();
    });
    $("reply").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendReply();
      }
    });
    window.addEventListener("online", () => {
      if (auth && !ws && reconnectTimer !== null) {
        clearTimeout(reconnectTimer);
        connect();
      }
    });

    const saved = loadAuth();
    if (saved && saved.access_token && saved.refresh_token) {
      auth = saved;
      start();
    } else {
      show($("login"), true);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
