// kefu inbox: live reloads of the list and the view counts, the selection for the bulk bar, and
// the keyboard (j/k next/previous, Enter opens, x selects, a assigns to me). The server renders
// every row; this script only says when to reload and keeps what the person had chosen.
"use strict";

(() => {
  const list = document.getElementById("inbox-list");
  if (!list || !window.htmx) return;
  const body = document.body;
  const bulkForm = document.getElementById("bulk-form");
  const selected = new Set();
  const flashing = new Set();
  let current = null; // the id of the row j/k stand on

  body.classList.add("inbox-live");

  const rows = () => Array.from(list.querySelectorAll("[data-ticket-id]"));
  const rowOf = (id) => list.querySelector('[data-ticket-id="' + id + '"]');

  // --- live reloads ---------------------------------------------------------------------------
  // Events arrive in bursts (a message, its triage, its routing): one reload at the start of a
  // burst, one more after it if anything came meanwhile, never two requests at once.
  function reloader(run, gap) {
    let busy = false;
    let again = false;
    const go = () => {
      busy = true;
      again = false;
      Promise.resolve(run())
        .catch(() => {})
        .then(() => setTimeout(() => {
          busy = false;
          if (again) go();
        }, gap));
    };
    return () => {
      if (busy) again = true;
      else go();
    };
  }

  const reloadList = reloader(() => {
    const shown = Math.min(Math.max(rows().length, 50), 200);
    const url = list.dataset.listUrl + (list.dataset.listUrl.includes("?") ? "&" : "?") + "limit=" + shown;
    const hadFocus = list.contains(document.activeElement);
    return htmx.ajax("GET", url, { target: list, swap: "innerHTML" }).then(() => restore(hadFocus));
  }, 800);

  // On a phone the views are a strip that scrolls sideways: it shows the current one, and keeps
  // where the person scrolled it when the counts reload.
  const reloadCounts = reloader(() => {
    const views = document.getElementById("inbox-views");
    if (!views) return null;
    const left = views.scrollLeft;
    return htmx.ajax("GET", views.dataset.countsUrl, { target: views, swap: "outerHTML" }).then(() => {
      const fresh = document.getElementById("inbox-views");
      if (fresh) fresh.scrollLeft = left;
    });
  }, 2000);
  const views = document.getElementById("inbox-views");
  const here = views && views.querySelector("[aria-current=page]");
  if (here && views.scrollWidth > views.clientWidth) {
    views.scrollLeft = here.offsetLeft - (views.clientWidth - here.offsetWidth) / 2;
  }

  const QUIET = new Set(["typing", "delivery.changed"]); // nothing the list shows
  body.addEventListener("kefu-tickets", (event) => {
    const detail = event.detail || {};
    if (QUIET.has(detail.event)) return;
    if (detail.ticket_id) flashing.add(String(detail.ticket_id));
    reloadList();
    reloadCounts();
  });
  body.addEventListener("inbox-changed", () => {
    reloadList();
    reloadCounts();
  });
  // Deadlines come due without an event: the order and the at-risk view follow once a minute.
  setInterval(() => {
    if (!document.hidden) {
      reloadList();
      reloadCounts();
    }
  }, 60000);

  // After a reload: the same rows checked, the same row current, new and moved rows flashed.
  function restore(hadFocus) {
    rows().forEach((row) => {
      const id = row.dataset.ticketId;
      const box = row.querySelector("[data-row-check]");
      if (box) box.checked = selected.has(id);
      row.classList.toggle("selected", selected.has(id));
      if (flashing.has(id)) {
        row.classList.add("flash");
        setTimeout(() => row.classList.remove("flash"), 2000);
      }
    });
    flashing.clear();
    const row = current && rowOf(current);
    if (row) setCurrent(row, hadFocus);
    else if (hadFocus && rows()[0]) setCurrent(rows()[0], true);
    showSelection();
  }

  // --- selection and the bulk bar ---------------------------------------------------------------
  function showSelection() {
    // Rows no longer in the list (closed, taken by someone else) leave the selection.
    const present = new Set(rows().map((r) => r.dataset.ticketId));
    selected.forEach((id) => {
      if (!present.has(id)) selected.delete(id);
    });
    body.classList.toggle("has-selection", selected.size > 0);
    const count = document.querySelector("[data-selected-count]");
    if (count) count.textContent = selected.size ? selected.size + " " + (list.dataset.selectedWord || "") : "";
    const all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = present.size > 0 && selected.size === present.size;
      all.indeterminate = selected.size > 0 && selected.size < present.size;
    }
  }

  function choose(box) {
    const row = box.closest("[data-ticket-id]");
    if (!row) return;
    const id = row.dataset.ticketId;
    if (box.checked) selected.add(id);
    else selected.delete(id);
    row.classList.toggle("selected", box.checked);
    showSelection();
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-row-check]")) choose(target);
    else if (target.matches("[data-select-all]")) {
      rows().forEach((row) => {
        const box = row.querySelector("[data-row-check]");
        box.checked = target.checked;
        choose(box);
      });
    } else if (target.closest("form[data-autosubmit]") && target.tagName === "SELECT") {
      target.form.requestSubmit();
    }
  });

  // "Close" asks first; a finished bulk change empties the selection.
  document.addEventListener("htmx:confirm", (event) => {
    const submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    const question = submitter && submitter.dataset.confirm;
    if (!question) return;
    event.preventDefault();
    if (window.confirm(question)) event.detail.issueRequest(true);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt !== bulkForm || !event.detail.successful) return;
    selected.clear();
    rows().forEach((row) => {
      row.classList.remove("selected");
      const box = row.querySelector("[data-row-check]");
      if (box) box.checked = false;
    });
    showSelection();
  });

  // --- the keyboard -------------------------------------------------------------------------------
  function setCurrent(row, focus) {
    rows().forEach((r) => r.classList.toggle("current", r === row));
    current = row.dataset.ticketId;
    const link = row.querySelector("[data-row-link]");
    if (focus && link) {
      link.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((r) => r.dataset.ticketId === current);
    const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + step, 0), all.length - 1);
    setCurrent(all[next], true);
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest("input:not([type=checkbox]), textarea, select, [contenteditable=true]");
    if (typing || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (document.querySelector("dialog[open]")) return;
    const row = current && rowOf(current);
    if (event.key === "j" || event.key === "k") {
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "x" && row) {
      const box = row.querySelector("[data-row-check]");
      box.checked = !box.checked;
      choose(box);
    } else if (event.key === "a" && row) {
      htmx.ajax("POST", "/inbox/bulk", {
        source: row,
        target: "#bulk-result",
        swap: "innerHTML",
        values: { action: "assign_me", ids: current },
      });
    } else if (event.key === "Enter" && row && !target.closest("a, button")) {
      location.href = row.querySelector("[data-row-link]").href;
    } else {
      return;
    }
    event.preventDefault();
  });

  // A click on a row makes it the current one (and a click outside a link or box opens nothing).
  list.addEventListener("focusin", (event) => {
    const row = event.target.closest("[data-ticket-id]");
    if (row) {
      rows().forEach((r) => r.classList.toggle("current", r === row));
      current = row.dataset.ticketId;
    }
  });

  // "More" appends rows: the selection shows on them too.
  document.addEventListener("htmx:afterSettle", () => restore(false));
})();
