// The on-screen keyboard: on a phone it shrinks the visual viewport, not the layout viewport
// that position:fixed follows, so a full-screen window would keep its input under the keyboard.
// The visual viewport's height and offset go into --vvh / --vvt, which styles.css uses for the
// phone's full-screen window only (a floating window on a wide screen ignores them).

export function fitViewport(root: HTMLElement): void {
  const vv = window.visualViewport;
  if (!vv) return;
  const fit = () => {
    // CSSOM, not a style attribute: allowed under a host CSP without 'unsafe-inline'.
    root.style.setProperty("--vvh", `${vv.height}px`);
    root.style.setProperty("--vvt", `${vv.offsetTop}px`);
  };
  vv.addEventListener("resize", fit);
  vv.addEventListener("scroll", fit);
  fit();
}
