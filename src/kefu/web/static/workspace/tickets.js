// kefu ticket page: the composer's reply / note modes and files, who else is viewing or typing,
// the parts that reload when the case changes, and the timeline kept at its newest line.
// The page itself is server-rendered (htmx loads its parts); no inline script (CSP).
"use strict";

(() => {
  const root = document.getElementById("ticket");
  const kefu = window.kefu;
  if (!root || !kefu) return;

  const body = document.body;
  const ticketId = Number(root.dataset.ticketId);
  const strings = kefu.strings;
  const staff = JSON.parse(document.getElementById("ticket-staff").textContent || "{}");
  const presence = document.getElementById("presence");
  const timeline = document.getElementById("timeline");

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail || {}, bubbles: true }));
  }

  // --- live: the case's events reload the parts that show it (each part waits for a pause of
  // 300 ms: the last of a burst of events is always loaded, unlike a throttle) -----------------
  const RELOADING = new Set([
    "message.added", "ticket.changed", "ticket.assigned", "case.step", "case.customer_feedback",
    "sla.warn", "sla.breach", "case.approval", "routing.crisis",
  ]);
  kefu.on("*", (event) => {
    if (event.ticket_id !== ticketId) return;
    if (RELOADING.has(event.event)) fire("kefu-ticket-refresh");
    if (event.event === "delivery.changed" && event.message_id) {
      // A reply not on the page yet comes with the next timeline, in the state it has then.
      if (document.getElementById("delivery-" + event.message_id)) fire("kefu-delivery-" + event.message_id);
      else fire("kefu-ticket-refresh");
    }
    if (event.event === "viewing") noticed(event.user_id, event.user_name, "viewing");
    if (event.event === "typing") {
      if (event.who === "customer") noticed("customer", presence.dataset.customer, "typing");
      else noticed(event.user_id, null, "typing");
    }
  });
  body.addEventListener("kefu-ready", () => {
    fire("kefu-ticket-refresh"); // what happened while the connection was down
    sayViewing();
  });
  body.addEventListener("kefu-toast", (event) => {
    kefu.toast(event.detail.value);
    // One's own change went through: the actions may reload even if a field there has focus.
    const active = document.activeElement;
    if (active && active.closest("#ticket-actions")) active.blur();
  });

  // --- who else is here: "王磊 也在查看此工单", "正在输入…" ----------------------------------------
  const VIEWING_MS = 30000;
  const TYPING_MS = 6000;
  const others = new Map(); // id → {name, viewing: until, typing: until}

  function noticed(id, name, what) {
    const key = String(id);
    const known = others.get(key) || { name: "", viewing: 0, typing: 0 };
    known.name = name || known.name || staff[key] || presence.dataset.colleague;
    known[what] = Date.now() + (what === "typing" ? TYPING_MS : VIEWING_MS);
    if (what === "typing") known.viewing = Math.max(known.viewing, Date.now() + VIEWING_MS);
    others.set(key, known);
    showPresence();
  }

  function showPresence() {
    const now = Date.now();
    const lines = [];
    others.forEach((other, key) => {
      if (other.typing > now) lines.push(other.name + " " + strings.typing);
      else if (other.viewing > now && key !== "customer") lines.push(other.name + " " + strings.viewing);
      else if (other.viewing <= now) others.delete(key);
    });
    presence.textContent = lines.join(" · ");
    presence.hidden = lines.length === 0;
  }
  setInterval(showPresence, 2000);

  function sayViewing() {
    if (!document.hidden) kefu.send({ type: "viewing", ticket_id: ticketId });
  }
  setInterval(sayViewing, 20000);
  document.addEventListener("visibilitychange", sayViewing);

  // --- the composer -------------------------------------------------------------------------------
  const composer = document.getElementById("composer");
  if (composer) {
    const text = composer.querySelector("textarea");
    const kind = composer.querySelector("input[name=kind]");
    const submit = composer.querySelector("button[type=submit]");
    const picker = composer.querySelector(".channel-pick");
    const files = composer.querySelector("input[type=file]");
    const chosen = document.getElementById("chosen-files");
    let typedAt = 0;

    const setMode = (mode) => {
      composer.dataset.mode = mode;
      kind.value = mode;
      composer.querySelectorAll(".mode").forEach((button) => {
        button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
      });
      text.placeholder = text.dataset[mode + "Placeholder"];
      submit.textContent = submit.dataset[mode + "Label"];
      picker.hidden = mode === "note";
    };

    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-action=compose]");
      if (!button) return;
      setMode(button.dataset.mode);
      text.focus();
    });

    text.addEventListener("input", () => {
      // Colleagues and the customer's widget see "typing": never for an internal note.
      if (kind.value !== "reply" || Date.now() - typedAt < 2000) return;
      typedAt = Date.now();
      kefu.send({ type: "typing", ticket_id: ticketId });
    });

    files.addEventListener("change", () => {
      chosen.textContent = Array.from(files.files, (file) => file.name).join("，");
    });

    // A reply the norms checker refuses (422 norms_blocked): its findings, and a field for the
    // reason to send it all the same. Text only: findings quote what the agent typed.
    const refusal = document.getElementById("norms-refusal");
    const findingList = refusal.querySelector(".norms-findings");
    const override = document.getElementById("norms-override");
    composer.addEventListener("htmx:responseError", (event) => {
      let error = null;
      try {
        error = JSON.parse(event.detail.xhr.responseText).error;
      } catch (_) {
        return;
      }
      if (!error || error.code !== "norms_blocked") return;
      findingList.replaceChildren(
        ...error.details.findings.map((finding) => {
          const item = document.createElement("li");
          item.className = "norms-finding " + finding.severity;
          const quoted = finding.text ? "「" + finding.text + "」" : "";
          const suggestion = finding.rewrite ? "（" + findingList.dataset.suggest + "：" + finding.rewrite + "）" : "";
          item.textContent = quoted + finding.explanation + suggestion;
          return item;
        }),
      );
      refusal.hidden = false;
      override.hidden = false;
      override.querySelector("input").focus();
    });

    composer.addEventListener("kefu-composer-sent", () => {
      const mode = kind.value;
      composer.reset();
      chosen.textContent = "";
      refusal.hidden = true;
      override.hidden = true;
      findingList.replaceChildren();
      setMode(mode);
      keepAtEnd = true;
    });
  }

  // --- the actions reload with the case, without losing what the user is doing -------------------
  let openSections = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target.id !== "ticket-actions") return;
    const active = document.activeElement;
    if (target.contains(active) && active.matches("input, select, textarea")) {
      event.detail.shouldSwap = false; // mid-edit: the next change reloads it
      return;
    }
    openSections = Array.from(target.querySelectorAll("details"), (section) => section.open);
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!openSections) return;
    const sections = document.querySelectorAll("#ticket-actions details");
    sections.forEach((section, i) => {
      if (openSections[i]) section.open = true;
    });
    openSections = null;
  });

  // --- the fields card: a refused form is shown with its messages; a reload waits for the editor --
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (!(target instanceof Element) || !target.matches("#ticket-fields, .order-card")) return;
    const xhr = event.detail.xhr;
    const verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    const active = document.activeElement;
    if (verb === "get" && target.contains(active) && active.matches("input, select, textarea")) {
      event.detail.shouldSwap = false; // mid-edit: the next change reloads it
      return;
    }
    if (xhr.status >= 400 && xhr.status < 500 && (xhr.getResponseHeader("content-type") || "").startsWith("text/html")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // --- the timeline stays at its newest line while the reader is there ---------------------------
  let keepAtEnd = true;
  const atEnd = () => timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 80;
  const toEnd = () => {
    timeline.scrollTop = timeline.scrollHeight;
  };
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target === timeline) keepAtEnd = keepAtEnd || atEnd();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== timeline) return;
    if (keepAtEnd) toEnd();
    keepAtEnd = false;
  });
  toEnd();
})();
