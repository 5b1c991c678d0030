// kefu admin pages: confirmations, copying secrets once shown, the working-hours switch, and
// the routing rules' order (HTML5 drag and drop, and up/down buttons for the keyboard), saved by
// posting the list's own form (its ids in their new order). No inline script (CSP).
"use strict";

(() => {
  const toast = (text, kind) => (window.kefu ? window.kefu.toast(text, kind) : undefined);

  // --- forms that ask first -----------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // --- secrets and snippets: select and copy ---------------------------------------------------
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  function copy(value, button) {
    const done = () => toast(button.dataset.copied || "✓");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(done, () => toast(value));
      return;
    }
    const field = document.createElement("textarea");
    field.value = value;
    field.setAttribute("readonly", "");
    field.className = "sr-only";
    document.body.appendChild(field);
    field.select();
    try {
      document.execCommand("copy");
      done();
    } catch (_) {
      toast(value);
    }
    field.remove();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    if (button.hasAttribute("data-copy-text")) {
      copy(button.dataset.copyText, button);
    } else {
      const input = button.parentElement.querySelector("input, textarea");
      if (input) copy(input.value, button);
    }
  });

  // --- a checkbox that greys out what it makes moot (24 × 7 hours) ----------------------------
  document.addEventListener("change", (event) => {
    const box = event.target.closest("input[data-toggles]");
    if (!box) return;
    const target = document.getElementById(box.dataset.toggles);
    if (target) target.classList.toggle("dimmed", box.checked);
  });

  // --- routing rules: their order ---------------------------------------------------------------
  const list = document.getElementById("rule-list");
  const form = document.getElementById("rule-order");
  if (!list || !form) return;
  const status = document.getElementById("order-status");
  const rules = () => Array.from(list.querySelectorAll(":scope > li.rule"));
  const order = () => rules().map((li) => li.dataset.id).join(",");
  let saved = order();
  let dragged = null;

  function renumber() {
    const items = rules();
    items.forEach((li, i) => {
      li.querySelector(".rule-position").textContent = String(i + 1);
      li.querySelector('[data-move="up"]').disabled = i === 0;
      li.querySelector('[data-move="down"]').disabled = i === items.length - 1;
    });
  }

  function save(moved) {
    renumber();
    const now = order();
    if (now === saved) return;
    const position = rules().indexOf(moved) + 1;
    status.textContent = form.dataset.moved.replace("{name}", moved.dataset.name).replace("{position}", String(position));
    const fields = new URLSearchParams(new FormData(form)); // the ids in their new order
    fetch(form.action, {
      method: "POST",
      body: fields,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": fields.get("csrf_token"), "HX-Request": "true" },
    })
      .then((answer) => {
        if (!answer.ok) throw answer;
        saved = now;
      })
      .catch((answer) => failed(answer));
  }

  function failed(answer) {
    const shown = (message) => {
      toast(message, "error");
      setTimeout(() => location.reload(), 1500); // show the order as it was saved
    };
    if (answer && typeof answer.json === "function") {
      answer.json().then((body) => shown(body.error.message), () => shown(String(answer.status)));
    } else {
      shown(window.kefu ? window.kefu.strings.offline : "offline");
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-move]");
    if (!button) return;
    event.preventDefault();
    const item = button.closest("li.rule");
    const up = button.dataset.move === "up";
    const other = up ? item.previousElementSibling : item.nextElementSibling;
    if (!other) return;
    list.insertBefore(up ? item : other, up ? other : item);
    save(item);
    const focus = button.disabled ? item.querySelector(`[data-move="${up ? "down" : "up"}"]`) : button;
    focus.focus();
  });

  list.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest("li.rule");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });

  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = event.target.closest && event.target.closest("li.rule");
    if (!over || over === dragged) return;
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextElementSibling : over);
  });

  list.addEventListener("drop", (event) => event.preventDefault());

  list.addEventListener("dragend", () => {
    if (!dragged) return;
    const moved = dragged;
    dragged = null;
    moved.classList.remove("dragging");
    save(moved);
  });
})();
