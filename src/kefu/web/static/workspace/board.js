// The supervisor board: its parts reload when something they show changes, at most every two
// seconds, and never under the hand of someone choosing in one of their menus.
"use strict";

(() => {
  const body = document.body;
  if (!window.kefu || body.dataset.page !== "board") return;

  const WAIT = 2000;
  // Ticket events that change nothing the board counts.
  const QUIET = new Set(["typing", "delivery.changed"]);

  // htmx's own throttle drops the events of its window, so the last change could go unseen;
  // this one fires once more at the end of the window instead.
  function throttled(name) {
    let timer = null;
    let last = 0;
    return () => {
      if (timer) return;
      const delay = Math.max(0, last + WAIT - Date.now());
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        body.dispatchEvent(new CustomEvent(name, { bubbles: true }));
      }, delay);
    };
  }
  const tickets = throttled("kefu-board-tickets");
  const agents = throttled("kefu-board-agents");

  body.addEventListener("kefu-tickets", (event) => {
    if (event.detail && QUIET.has(event.detail.event)) return;
    tickets();
    agents(); // their load
  });
  body.addEventListener("kefu-presence", () => {
    agents();
    tickets(); // the groups' online counts
  });

  // A part where someone is picking an agent or a status (the focus in one of its forms) waits
  // until they leave it; a change made from the board itself reloads at once.
  function busy(part) {
    const active = document.activeElement;
    return Boolean(active && part.contains(active) && active.closest("form"));
  }

  body.addEventListener("htmx:beforeRequest", (event) => {
    const part = event.detail.elt;
    if (!part.id || !part.id.startsWith("board-")) return;
    if (part.dataset.force) {
      delete part.dataset.force;
      return;
    }
    if (busy(part)) {
      event.preventDefault();
      part.dataset.stale = "1";
    }
  });
  body.addEventListener("focusout", (event) => {
    const part = event.target.closest("[id^=board-][data-stale]");
    if (!part || part.contains(event.relatedTarget)) return;
    setTimeout(() => {
      if (!part.isConnected || busy(part)) return;
      delete part.dataset.stale;
      htmx.trigger(part, "kefu-board-retry");
    }, 0);
  });

  // A change made here: say what was done and show it now.
  body.addEventListener("kefu-board-changed", (event) => {
    if (event.detail && event.detail.message) window.kefu.toast(event.detail.message);
    document.querySelectorAll("[id^=board-][hx-get]").forEach((part) => {
      part.dataset.force = "1";
      htmx.trigger(part, "kefu-board-retry");
    });
  });

  // A reassign control just loaded: the menu takes the focus.
  body.addEventListener("htmx:load", (event) => {
    const loaded = event.detail.elt;
    const wanted = loaded.matches("[data-autofocus]") ? loaded : loaded.querySelector("[data-autofocus]");
    if (wanted) wanted.focus();
  });
})();
