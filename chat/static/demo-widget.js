// A plain visitor chat box for the demo page, until the real widget exists.
// Protocol: /work/shared/CONTRACT.md, "WebSocket /ws/widget". No framework, no innerHTML:
// every piece of text goes in through textContent.
(() => {
  "use strict";

  // Read while this script runs: document.currentScript is null inside later callbacks.
  const script = document.currentScript || document.querySelector("script[data-widget-key]");
  const widgetKey = script ? (script.dataset.widgetKey || "").trim() : "";

  const MAX_CHARS = 4000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  const PING_MS = 25000;
  const TYPING_TIMEOUT_MS = 10000;
  const SESSION_KEY = `chat-demo.session.${widgetKey}`;

  const THREAD_TEXT = {
    none: "Send a message to start a conversation.",
    unassigned: "Waiting for an agent to pick up the conversation…",
    active: "An agent has joined the conversation.",
    closed: "This conversation was closed. Send a message to start a new one.",
    expired: "This conversation expired. Send a message to start a new one.",
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function newClientId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    // crypto.randomUUID exists only in secure contexts; plain http on another host lacks it.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Message ids are stream entry ids "<ms>-<seq>"; they order a thread.
  function compareIds(a, b) {
    const [am, as] = a.split("-").map(BigInt);
    const [bm, bs] = b.split("-").map(BigInt);
    if (am !== bm) return am < bm ? -1 : 1;
    if (as !== bs) return as < bs ? -1 : 1;
    return 0;
  }

  function loadSession() {
    try {
      return localStorage.getItem(SESSION_KEY);
    } catch {
      return null; // storage disabled: a new visitor per page load
    }
  }

  function saveSession(token) {
    try {
      localStorage.setItem(SESSION_KEY, token);
    } catch {
      // ignore: see loadSession
    }
  }

  function timeOf(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime())
      ? ""
      : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function mount() {
    let root = document.getElementById("chat-widget");
    if (!root) {
      root = el("div", "chat-widget");
      document.body.append(root);
    }
    root.replaceChildren();

    const header = el("div", "chat-header");
    const title = el("span", "chat-title", "Chat with us");
    const agentsLine = el("span", "chat-agents", "");
    header.append(title, agentsLine);

    const connLine = el("div", "chat-conn", "Connecting…");
    connLine.setAttribute("role", "status");
    const threadLine = el("div", "chat-thread", THREAD_TEXT.none);
    const list = el("ol", "chat-messages");
    list.setAttribute("aria-live", "polite");
    const typingLine = el("div", "chat-typing", "");
    typingLine.hidden = true;
    const notice = el("div", "chat-notice", "");
    notice.setAttribute("role", "alert");
    notice.hidden = true;

    const form = el("form", "chat-form");
    const input = el("textarea", "chat-input");
    input.rows = 2;
    input.placeholder = "Type a message… (Enter sends, Shift+Enter for a new line)";
    input.setAttribute("aria-label", "Your message");
    const sendButton = el("button", "chat-send", "Send");
    sendButton.type = "submit";
    form.append(input, sendButton);

    root.append(header, connLine, threadLine, list, typingLine, notice, form);

    if (!widgetKey || widgetKey.includes("{{")) {
      connLine.textContent = "No widget key on this page: the chat box cannot connect.";
      connLine.classList.add("is-error");
      input.disabled = true;
      sendButton.disabled = true;
      return;
    }

    // --- state ----------------------------------------------------------------------------
    let ws = null;
    let welcomed = false; // this socket has had its welcome frame
    let attempt = 0;
    let reconnectTimer = null;
    let pingTimer = null;
    let typingTimer = null;
    let stopped = false; // a permanent failure (unknown key, origin not allowed)
    let lastId = null; // the last message id seen from the server, for `last` on reconnect
    const byId = new Map(); // message id -> list item
    const byClientId = new Map(); // own client_id -> {item, status}
    const pending = new Map(); // own client_id -> content, sent but not acked yet

    // --- rendering ------------------------------------------------------------------------
    function showNotice(text) {
      notice.textContent = text;
      notice.hidden = !text;
    }

    function setConn(text, isError = false) {
      connLine.textContent = text;
      connLine.classList.toggle("is-error", isError);
    }

    function setAgents(online) {
      agentsLine.textContent = online ? "● An agent is online" : "○ No agent online";
      agentsLine.classList.toggle("is-online", online);
      agentsLine.title = online
        ? "An agent can answer now."
        : "Leave a message: it will be answered here when an agent is back.";
    }

    function setThread(thread) {
      const status = thread ? thread.status : "none";
      threadLine.textContent = THREAD_TEXT[status] || `Conversation: ${status}`;
      threadLine.dataset.status = status;
    }

    function setTyping(active) {
      clearTimeout(typingTimer);
      typingLine.textContent = active ? "The agent is typing…" : "";
      typingLine.hidden = !active;
      if (active) typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
    }

    function scrollToEnd() {
      list.scrollTop = list.scrollHeight;
    }

    function buildItem(senderType, senderName, content, createdAt) {
      const item = el("li", `chat-msg from-${senderType}`);
      const meta = el("div", "chat-meta");
      const who = senderType === "visitor" ? "You" : senderName || senderType;
      meta.append(el("span", "chat-who", who), el("span", "chat-time", timeOf(createdAt)));
      const body = el("div", "chat-body", content);
      const status = el("span", "chat-status", "");
      meta.append(status);
      item.append(meta, body);
      return { item, status };
    }

    function placeById(item, id) {
      item.dataset.id = id;
      for (const other of list.children) {
        if (other !== item && other.dataset.id && compareIds(other.dataset.id, id) > 0) {
          list.insertBefore(item, other);
          return;
        }
      }
      if (item.parentNode !== list) list.append(item);
    }

    function markSent(clientId, id, createdAt) {
      const own = byClientId.get(clientId);
      pending.delete(clientId);
      if (!own) return false;
      own.status.textContent = "sent";
      own.item.classList.remove("is-sending", "is-failed");
      if (createdAt) own.item.querySelector(".chat-time").textContent = timeOf(createdAt);
      if (id && !byId.has(id)) {
        byId.set(id, own.item);
        own.item.dataset.id = id;
      }
      return true;
    }

    function showMessage(m) {
      if (!m || typeof m.id !== "string") return;
      if (!lastId || compareIds(m.id, lastId) > 0) lastId = m.id;
      if (byId.has(m.id)) return;
      if (m.sender_type === "visitor" && m.client_id && markSent(m.client_id, m.id, m.created_at)) {
        return; // our own message, echoed in a history after a reconnect
      }
      const { item } = buildItem(m.sender_type, m.sender_name, m.content, m.created_at);
      byId.set(m.id, item);
      placeById(item, m.id);
      if (m.sender_type === "agent") setTyping(false);
      scrollToEnd();
    }

    // --- the socket -----------------------------------------------------------------------
    function send(frame) {
      if (ws && ws.readyState === WebSocket.OPEN && welcomed) {
        ws.send(JSON.stringify(frame));
        return true;
      }
      return false;
    }

    function sendMessage() {
      const content = input.value.trim();
      if (!content) return;
      if ([...content].length > MAX_CHARS) {
        showNotice(`A message can be at most ${MAX_CHARS} characters.`);
        return;
      }
      showNotice("");
      const clientId = newClientId();
      const own = buildItem("visitor", "You", content, new Date().toISOString());
      own.status.textContent = "sending…";
      own.item.classList.add("is-sending");
      byClientId.set(clientId, own);
      pending.set(clientId, content);
      list.append(own.item);
      scrollToEnd();
      input.value = "";
      send({ type: "message", client_id: clientId, content });
      // Not connected: it stays pending and goes out, with the same client_id, on reconnect.
    }

    function onFrame(frame) {
      switch (frame.type) {
        case "welcome":
          welcomed = true;
          attempt = 0;
          setConn("Connected");
          if (typeof frame.session === "string") saveSession(frame.session);
          setAgents(Boolean(frame.agents_online));
          setThread(frame.thread);
          for (const m of frame.history || []) showMessage(m);
          // The server stores a client_id once, so resending after a drop is safe.
          for (const [clientId, content] of pending) {
            send({ type: "message", client_id: clientId, content });
          }
          send({
            type: "page",
            url: location.href.slice(0, 2048),
            title: document.title.slice(0, 300),
          });
          break;
        case "ack":
          markSent(frame.client_id, frame.id, frame.created_at);
          break;
        case "message":
          showMessage(frame);
          break;
        case "agents":
          setAgents(Boolean(frame.online));
          break;
        case "thread":
          setThread(frame.thread);
          break;
        case "typing":
          setTyping(Boolean(frame.active));
          break;
        case "error":
          onError(frame);
          break;
        default:
          break; // pong, and anything newer than this page
      }
    }

    function onError(frame) {
      const text = frame.message || frame.code || "error";
      if (frame.client_id && byClientId.has(frame.client_id)) {
        pending.delete(frame.client_id);
        const own = byClientId.get(frame.client_id);
        own.item.classList.remove("is-sending");
        own.item.classList.add("is-failed");
        own.status.textContent = `not sent: ${text}`;
      }
      if (frame.code === "queue_full") {
        showNotice("All agents are busy right now. Please try again in a little while.");
      } else if (frame.code === "rate_limited") {
        showNotice("You are sending messages too quickly; wait a moment and try again.");
      } else {
        showNotice(text);
      }
    }

    function connect() {
      reconnectTimer = null;
      if (stopped) return;
      const params = new URLSearchParams({ key: widgetKey });
      const session = loadSession();
      if (session) params.set("session", session);
      if (lastId) params.set("last", lastId);
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      setConn(attempt ? "Reconnecting…" : "Connecting…");
      welcomed = false;
      const socket = new WebSocket(`${scheme}//${location.host}/ws/widget?${params}`);
      ws = socket;
      socket.addEventListener("open", () => {
        pingTimer = setInterval(() => send({ type: "ping" }), PING_MS);
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
      socket.addEventListener("close", () => {
        if (ws !== socket) return;
        const hadWelcome = welcomed;
        ws = null;
        welcomed = false;
        clearInterval(pingTimer);
        setTyping(false);
        if (hadWelcome) {
          scheduleReconnect();
        } else {
          diagnose().then(scheduleReconnect);
        }
      });
    }

    // A refused handshake gives the page no status code; the config endpoint applies the same
    // key and Origin checks and says which one failed.
    async function diagnose() {
      try {
        const res = await fetch(`/api/v1/widget/${encodeURIComponent(widgetKey)}/config`);
        if (res.status === 404) {
          stopped = true;
          setConn("This widget key is unknown (was the space deleted or its key rotated?).", true);
        } else if (res.status === 403) {
          stopped = true;
          setConn(
            `This site (${location.host}) is not among the space's allowed domains.`,
            true,
          );
        }
      } catch {
        // offline: just retry
      }
      if (stopped) {
        input.disabled = true;
        sendButton.disabled = true;
      }
    }

    function scheduleReconnect() {
      if (stopped || reconnectTimer !== null) return;
      // Exponential backoff with jitter: half the step fixed, half random.
      const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      const delay = step / 2 + Math.random() * (step / 2);
      attempt += 1;
      setConn(`Disconnected. Reconnecting in ${Math.ceil(delay / 1000)} s…`, true);
      reconnectTimer = setTimeout(connect, delay);
    }

    function reconnectNow() {
      if (stopped || ws || reconnectTimer === null) return;
      clearTimeout(reconnectTimer);
      connect();
    }

    // --- input ----------------------------------------------------------------------------
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendMessage();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendMessage();
      }
    });
    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") reconnectNow();
    });

    setAgents(false);
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
