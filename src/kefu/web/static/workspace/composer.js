// kefu ticket page: help while writing a reply. The norms coach underlines what the checker finds
// (POST /api/v1/norms/check, ~300 ms after typing stops), explains it on hover or when the caret
// is in it, rewrites it in one click, and holds the send button back while an error stands (the
// server checks again on send and stays the authority). Suggested replies, the script library
// and macros put a script filled for the case into the draft, and the send form says which.
// No inline script (CSP); text is only ever set with textContent.
"use strict";

(() => {
  const composer = document.getElementById("composer");
  const kefu = window.kefu;
  if (!composer || !kefu) return;

  const body = document.body;
  const ticketId = Number(document.getElementById("ticket").dataset.ticketId);
  const text = document.getElementById("composer-text");
  const backdrop = document.getElementById("draft-backdrop");
  const tip = document.getElementById("draft-tip");
  const kind = composer.querySelector("input[name=kind]");
  const scriptField = composer.querySelector("input[name=script_id]");
  const submit = composer.querySelector("button[type=submit]");
  const panel = document.getElementById("norms");
  const list = document.getElementById("norms-list");
  const blockedLine = document.getElementById("send-blocked");
  const overrideOpen = document.getElementById("override-open");
  const override = document.getElementById("norms-override");
  const reason = override.querySelector("input");
  const browser = document.getElementById("script-browser");
  const rules = JSON.parse(document.getElementById("composer-rules").textContent || "{}");
  const say = panel.dataset;
  const csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  const CHECKED_UP_TO = 5000; // the check API's limit: a longer draft is checked on send only
  const PAUSE_MS = 300;

  let findings = []; // of the draft as it is now: spans [from, to) in the textarea's units
  let before = ""; // the draft the findings were placed on
  let timer = 0;
  let asked = 0; // only the answer to the latest check counts
  let hovered = -1;
  let hideTip = 0;
  let toPlaceholder = false; // a script just went in: its first unfilled placeholder is selected

  const ruleOf = (finding) => rules[finding.rule] || { name: finding.rule, use: "advice", mark: true };

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data || {}),
    }).then((answer) => (answer.ok ? answer.json() : Promise.reject(answer)));
  }

  // --- checking -------------------------------------------------------------------------------
  // The server counts characters (code points), the textarea UTF-16 units (an emoji is two).
  function unitsOf(value) {
    const at = [];
    let i = 0;
    for (const ch of value) {
      at.push(i);
      i += ch.length;
    }
    at.push(i);
    return at;
  }

  function check() {
    clearTimeout(timer);
    const draft = text.value;
    const mine = ++asked;
    if (kind.value !== "reply" || !draft.trim() || draft.length > CHECKED_UP_TO) {
      show(draft, []);
      return;
    }
    post("/api/v1/norms/check", { text: draft, ticket_id: ticketId }).then(
      (report) => {
        if (mine !== asked || text.value !== draft) return; // typed on: a newer check follows
        const at = unitsOf(draft);
        show(draft, report.findings.map((f) => Object.assign({}, f, { from: at[f.start], to: at[f.end] })));
        const first = findings.find((f) => f.rule === "unfilled_placeholder" && f.to > f.from);
        if (toPlaceholder && first && document.activeElement === text) text.setSelectionRange(first.from, first.to);
        toPlaceholder = false;
      },
      () => {
        if (mine === asked) show(draft, []); // unchecked here: the server checks on send
      },
    );
  }

  // While the next answer is on its way, findings the edit did not touch keep their place.
  function follow(now) {
    let head = 0;
    while (head < before.length && head < now.length && before[head] === now[head]) head++;
    let tail = 0;
    while (tail < before.length - head && tail < now.length - head &&
           before[before.length - 1 - tail] === now[now.length - 1 - tail]) tail++;
    const shift = now.length - before.length;
    findings = findings.flatMap((f) => {
      if (f.to < head || (f.to === head && f.from < f.to)) return [f];
      if (f.from >= before.length - tail) return [Object.assign({}, f, { from: f.from + shift, to: f.to + shift })];
      return [];
    });
    before = now;
  }

  function show(draft, found) {
    findings = found;
    before = draft;
    hovered = -1;
    paint();
    listFindings();
    holdSend();
    placeTip();
  }

  // --- the underlines: the draft's text again, behind the transparent textarea ----------------
  function paint() {
    const draft = text.value;
    const pieces = [];
    let at = 0;
    findings.forEach((f, i) => {
      if (!ruleOf(f).mark || f.to <= f.from || f.from < at) return;
      pieces.push(document.createTextNode(draft.slice(at, f.from)));
      const mark = el("mark", "finding " + f.severity + (f.rule === "unfilled_placeholder" ? " placeholder" : ""));
      mark.textContent = draft.slice(f.from, f.to);
      mark.dataset.i = String(i);
      pieces.push(mark);
      at = f.to;
    });
    pieces.push(document.createTextNode(draft.slice(at) + "\n")); // a last empty line keeps its height
    backdrop.replaceChildren(...pieces);
    backdrop.scrollTop = text.scrollTop;
  }

  // --- the findings below the box: each with its explanation and its fix -----------------------
  // The buttons act on the finding where it is when clicked (typing elsewhere moves it).
  function fixButton(f, i) {
    const use = ruleOf(f).use;
    if (f.rule === "unfilled_placeholder" && f.to > f.from) {
      const fill = el("button", "button small", say.fill);
      fill.type = "button";
      fill.addEventListener("click", () => {
        const now = findings[i];
        if (!now) return;
        text.focus();
        text.setSelectionRange(now.from, now.to); // typing replaces it
      });
      return fill;
    }
    if (use === "advice" || !f.rewrite) return null;
    const rewrite = el("button", "button small", say.rewrite);
    rewrite.type = "button";
    rewrite.title = f.rewrite;
    rewrite.addEventListener("click", () => {
      if (findings[i]) applyRewrite(findings[i]);
    });
    return rewrite;
  }

  function describe(f, i, node) {
    node.dataset.i = String(i);
    const head = el("span", "norms-head");
    head.append(el("strong", "norms-rule " + f.severity, ruleOf(f).name));
    if (f.to > f.from && ruleOf(f).mark) head.append(el("span", "norms-quote", "「" + f.text + "」"));
    node.append(head, el("span", "norms-why", f.explanation));
    const fix = fixButton(f, i);
    if (fix) node.append(fix);
    if (f.rewrite && ruleOf(f).use !== "advice") node.append(el("span", "norms-rewrite", say.suggest + "：" + f.rewrite));
    else if (f.rewrite) node.append(el("span", "norms-rewrite", f.rewrite));
    return node;
  }

  // Drawn again only when what is found changes: the list is a live region.
  let listed = "";
  function listFindings() {
    const now = JSON.stringify(findings.map((f) => [f.rule, f.text, f.rewrite]));
    if (now === listed) return;
    listed = now;
    list.replaceChildren(...findings.map((f, i) => describe(f, i, el("li", "norms-item " + f.severity))));
    panel.hidden = findings.length === 0;
  }

  function applyRewrite(f) {
    const from = f.from;
    const to = ruleOf(f).use === "insert" ? f.from : f.to;
    put(f.rewrite, from, to);
  }

  // Through the editing commands where the browser has them, so that Ctrl+Z takes it back.
  function put(value, from, to) {
    text.focus();
    text.setSelectionRange(from, to);
    if (!document.execCommand("insertText", false, value)) {
      text.setRangeText(value, from, to, "end");
      text.dispatchEvent(new Event("input", { bubbles: true }));
    }
    check();
  }

  // --- the send button: held back, and saying why, while an error finding stands ------------
  function holdSend() {
    const errors = kind.value === "reply" ? findings.filter((f) => f.severity === "error") : [];
    const names = Array.from(new Set(errors.map((f) => ruleOf(f).name)));
    const why = errors.length ? say.blocked.replace("{n}", String(errors.length)).replace("{rules}", names.join(say.list)) : "";
    if (blockedLine.textContent !== why) blockedLine.textContent = why;
    blockedLine.hidden = !why;
    composer.classList.toggle("blocked", Boolean(why));
    submit.disabled = Boolean(why) && !reason.value.trim();
    overrideOpen.hidden = !why || !override.hidden;
  }

  composer.addEventListener(
    "submit",
    (event) => {
      if (!submit.disabled) return;
      event.preventDefault(); // Ctrl+Enter too; htmx never sees it
      event.stopImmediatePropagation();
      blockedLine.classList.remove("nudge");
      void blockedLine.offsetWidth;
      blockedLine.classList.add("nudge");
    },
    true,
  );

  overrideOpen.addEventListener("click", () => {
    override.hidden = false;
    overrideOpen.hidden = true;
    reason.focus();
  });
  reason.addEventListener("input", holdSend);

  // --- the explanation on hover, or with the caret inside a finding ----------------------------
  function markAt(x, y) {
    for (const mark of backdrop.querySelectorAll("mark")) {
      for (const r of mark.getClientRects()) {
        if (x >= r.left && x <= r.right && y >= r.top - 2 && y <= r.bottom + 2) return Number(mark.dataset.i);
      }
    }
    return -1;
  }

  function atCaret() {
    if (document.activeElement !== text || text.selectionStart !== text.selectionEnd) return -1;
    const caret = text.selectionStart;
    return findings.findIndex((f) => ruleOf(f).mark && f.from < f.to && f.from <= caret && caret <= f.to);
  }

  function placeTip() {
    clearTimeout(hideTip);
    const i = hovered >= 0 ? hovered : atCaret();
    list.querySelectorAll(".current").forEach((node) => node.classList.remove("current"));
    const mark = i >= 0 && backdrop.querySelector('mark[data-i="' + i + '"]');
    if (!mark) {
      tip.hidden = true;
      return;
    }
    const current = list.querySelector('[data-i="' + i + '"]');
    if (current) current.classList.add("current");
    tip.replaceChildren();
    describe(findings[i], i, tip);
    tip.hidden = false;
    const box = text.parentElement.getBoundingClientRect();
    const rect = mark.getClientRects()[mark.getClientRects().length - 1];
    const left = Math.max(0, Math.min(rect.left - box.left, box.width - tip.offsetWidth));
    tip.style.left = left + "px";
    tip.style.top = Math.min(rect.bottom - box.top + 10, box.height) + "px"; // under the underline
  }

  text.addEventListener("mousemove", (event) => {
    const i = markAt(event.clientX, event.clientY);
    if (i === hovered) return;
    hovered = i;
    if (i >= 0) placeTip();
    else hideSoon();
  });
  text.addEventListener("mouseleave", () => {
    hovered = -1;
    hideSoon();
  });
  function hideSoon() {
    clearTimeout(hideTip);
    hideTip = setTimeout(placeTip, 400);
  }
  tip.addEventListener("mouseenter", () => clearTimeout(hideTip));
  tip.addEventListener("mouseleave", hideSoon);
  ["keyup", "click", "focus"].forEach((name) => text.addEventListener(name, placeTip));
  text.addEventListener("blur", (event) => {
    if (!tip.contains(event.relatedTarget)) hideSoon();
  });
  tip.addEventListener("focusout", hideSoon);

  text.addEventListener("scroll", () => {
    backdrop.scrollTop = text.scrollTop;
    tip.hidden = true;
  });

  // The box grows with the draft up to its CSS max-height, then scrolls.
  function fit() {
    text.style.height = "auto";
    text.style.height = text.scrollHeight + text.offsetHeight - text.clientHeight + "px";
  }

  text.addEventListener("input", () => {
    if (!text.value.trim()) scriptField.value = ""; // emptied: no longer written from the script
    fit();
    toPlaceholder = false;
    follow(text.value);
    paint();
    listFindings();
    holdSend();
    placeTip();
    clearTimeout(timer);
    timer = setTimeout(check, PAUSE_MS);
  });

  // --- scripts into the draft: suggestions, the library, macros -------------------------------
  // A script replaces the selection, or the whole draft when nothing is selected.
  function insert(value, scriptId) {
    text.focus();
    const whole = text.selectionStart === text.selectionEnd;
    put(value, whole ? 0 : text.selectionStart, whole ? text.value.length : text.selectionEnd);
    scriptField.value = scriptId ? String(scriptId) : "";
    toPlaceholder = true;
    kefu.toast(say.inserted);
  }

  // Beside the composer, one panel at a time: suggested replies or similar past cases.
  function showTab(chosen) {
    for (const tab of chosen.parentElement.querySelectorAll("[role=tab]")) {
      const selected = tab === chosen;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
    }
  }
  document.querySelector(".assist-tabs")?.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const tabs = [...event.currentTarget.querySelectorAll("[role=tab]")];
    const next = tabs[(tabs.indexOf(document.activeElement) + 1) % tabs.length];
    showTab(next);
    next.focus();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "insert-script") {
      insert(button.dataset.text, button.dataset.scriptId);
    } else if (action === "fill-script") {
      button.disabled = true;
      post("/api/v1/scripts/" + encodeURIComponent(button.dataset.scriptId) + "/fill?ticket_id=" + ticketId).then(
        (filled) => {
          browser.close();
          insert(filled.text, filled.script_id);
        },
        () => kefu.toast(kefu.strings.error, "error"),
      ).finally(() => {
        button.disabled = false;
      });
    } else if (action === "open-scripts") {
      browser.showModal();
      body.dispatchEvent(new CustomEvent("kefu-scripts-open"));
      document.getElementById("script-query").focus();
    } else if (action === "compose") {
      check(); // a note is not checked
    } else if (action === "assist-tab") {
      showTab(button);
    }
  });

  // A macro ran (its actions reload the page's parts): its script, if any, goes into the draft.
  document.addEventListener("htmx:afterRequest", (event) => {
    const button = event.detail.elt;
    if (!(button instanceof Element) || !button.matches("[data-macro]")) return;
    const menu = button.closest("details");
    if (menu) menu.open = false;
    if (!event.detail.successful || event.detail.xhr.status !== 200) return;
    const applied = JSON.parse(event.detail.xhr.responseText);
    if (applied.text) insert(applied.text, applied.script_id);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt === composer) setTimeout(holdSend, 0); // htmx enabled the button again
  });

  composer.addEventListener("kefu-composer-sent", () => {
    scriptField.value = ""; // a hidden field keeps its value through reset()
    override.hidden = true;
    show("", []);
    fit();
  });

  // --- suggestions follow the conversation: a new customer message, a corrected triage --------
  const TRIAGE = ["intent", "category", "emotion", "stage"];
  const refreshSuggestions = () => body.dispatchEvent(new CustomEvent("kefu-suggestions-refresh"));
  kefu.on("message.added", (event) => {
    if (event.ticket_id === ticketId && event.direction === "inbound") refreshSuggestions();
  });
  kefu.on("ticket.changed", (event) => {
    if (event.ticket_id === ticketId && (event.fields || []).some((f) => TRIAGE.includes(f))) refreshSuggestions();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (["suggestions", "similar-cases"].includes(event.detail.target.id)) {
      event.detail.target.removeAttribute("aria-busy");
    }
  });

  if (text.value.trim()) {
    fit();
    check(); // a draft the browser kept
  }
})();
