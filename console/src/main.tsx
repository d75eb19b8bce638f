// The agent console: mounted on <div id="console"> of chat/static/console.html, served at
// /console under the app's CSP (no inline script or style: everything is in console.js and
// console.css, and all text reaches the page as text nodes).

import { render } from "preact";
import { STORE_KEY } from "./auth";
import { Console, viewFromHash } from "./console";
import { onKey } from "./keys";
import { App } from "./ui/App";
import "./styles.css";

function main(): void {
  const root = document.getElementById("console");
  if (!root) return;
  const c = new Console();
  const draw = () => render(<App c={c} />, root);
  c.subscribe(draw);

  document.addEventListener("keydown", (e) => onKey(c, e));
  // Tokens rotated, signed in or out in another tab.
  window.addEventListener("storage", (e) => {
    if (e.key === STORE_KEY) c.auth.adopt(e.newValue);
  });
  const back = () => {
    if (document.visibilityState !== "visible" || !c.me) return;
    c.conn.wake();
    void c.auth.fresh();
    if (c.openId && c.unread.delete(c.openId)) {
      c.markRead(c.openId);
      c.changed();
    }
  };
  document.addEventListener("visibilitychange", back);
  window.addEventListener("focus", back);
  window.addEventListener("online", () => c.conn.wake());
  window.addEventListener("hashchange", () => c.setView(viewFromHash()));
  // Sound may only start after a gesture: have it ready once alerts are on.
  const unlock = () => c.attention.unlock();
  document.addEventListener("pointerdown", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });

  c.boot();
  draw();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", main);
} else {
  main();
}
