// kefu case panel and approvals: keep what someone is typing when the case changes live, and
// show a refused step or a field that did not pass in place (the server answers them with the
// panel's HTML and a 4xx status, which htmx would otherwise not swap in).
"use strict";

(() => {
  const LIVE = "#case-panel, [data-hold-while-editing]";

  // A form someone is filling in: a field changed from what the server rendered, or a form the
  // server sent back with errors (data-unsaved).
  function editing(area) {
    if (area.querySelector("form[data-unsaved]")) return true;
    return Array.from(area.querySelectorAll("input, textarea, select")).some((field) => {
      if (field.type === "hidden" || field.type === "submit") return false;
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") return Array.from(field.options).some((o) => o.selected !== o.defaultSelected);
      return field.value !== field.defaultValue;
    });
  }

  function staleNotice(area) {
    if (area.querySelector(".case-stale")) return;
    const note = document.createElement("p");
    note.className = "case-stale alert alert-info";
    note.setAttribute("role", "status");
    const words = (area.querySelector("[data-stale-text]") || area).dataset;
    const text = document.createElement("span");
    text.textContent = words.staleText || "";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.dataset.caseReload = "";
    button.textContent = words.reloadText || "↻";
    note.append(text, " ", button);
    area.prepend(note);
  }

  // A live reload (the area's own hx-get, fired by a ticket event) waits while someone types:
  // it is not sent, or, when the typing began while it was on its way, not swapped in.
  function holdReload(event) {
    const config = event.detail.requestConfig;
    const area = config ? config.elt : event.detail.elt; // who asked, not where it goes
    if (!(area instanceof Element) || !area.matches(LIVE)) return false;
    if (config && config.verb && config.verb !== "get") return false;
    if (area.dataset.forceReload === "1") return false;
    if (!editing(area)) return false;
    staleNotice(area);
    return true;
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (holdReload(event)) event.preventDefault();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const area = event.detail.elt;
    if (area instanceof Element && area.matches(LIVE)) delete area.dataset.forceReload;
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-case-reload]");
    if (!button) return;
    const area = button.closest(LIVE);
    if (!area) return;
    area.dataset.forceReload = "1";
    const url = area.getAttribute("hx-get");
    if (url) htmx.ajax("GET", url, { source: area, target: area, swap: area.getAttribute("hx-swap") || "innerHTML" });
  });

  // The approvals change with a case's steps only: "kefu-approvals" on <body> for the list to
  // listen to (every ticket event would keep a debounced reload from ever firing on a busy day).
  if (window.kefu) {
    ["case.step", "case.approval"].forEach((kind) =>
      window.kefu.on(kind, (event) => document.body.dispatchEvent(new CustomEvent("kefu-approvals", { detail: event }))),
    );
  }

  // What a step did, as a toast (the panel's own message goes with its next live reload).
  document.addEventListener("kefu-case-done", (event) => {
    if (window.kefu && event.detail && event.detail.value) window.kefu.toast(event.detail.value);
  });

  // The panel and the approval cards answer a refused step with themselves (4xx, HTML): show it.
  // A live reload of a case that has not changed since it was shown (the reload its own step
  // caused) keeps the panel, with the step's message in it.
  function unchanged(event) {
    const config = event.detail.requestConfig;
    if (!config || config.verb !== "get" || !(config.elt instanceof Element)) return false;
    const shown = config.elt.querySelector(".case[data-version]");
    const sent = /class="case"[^>]*data-version="([^"]+)"/.exec(event.detail.xhr.responseText || "");
    return Boolean(shown && sent && shown.dataset.version === sent[1]);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (holdReload(event) || unchanged(event)) {
      event.detail.shouldSwap = false;
      return;
    }
    const xhr = event.detail.xhr;
    if (xhr.status < 400 || xhr.status >= 500) return;
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!(source instanceof Element) || !source.closest(".case, .approval, .approvals")) return;
    if (!(xhr.getResponseHeader("content-type") || "").startsWith("text/html")) return;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });
})();
