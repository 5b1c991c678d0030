// kefu workspace: the live connection, shortcuts, SLA clocks, alerts and messages.
// Pages are server-rendered; this script only tells them when to reload a part (htmx does the
// loading) and adds what a browser must do itself. No inline script anywhere (CSP).
"use strict";

(() => {
  const body = document.body;
  if (!body.classList.contains("signed-in")) return;

  const strings = JSON.parse(document.getElementById("kefu-strings").textContent);
  const me = Number(body.dataset.userId);
  const handlers = {};
  const kefu = (window.kefu = { strings, me, socket: null, on, send, toast, alert: raiseAlert });

  function on(kind, fn) {
    (handlers[kind] = handlers[kind] || []).push(fn);
  }

  // --- messages ------------------------------------------------------------------------
  function toast(text, kind) {
    const box = document.getElementById("toasts");
    const item = document.createElement("div");
    item.className = "toast" + (kind ? " " + kind : "");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), kind === "error" ? 7000 : 4000);
  }

  // Panels other areas fill in lazily stay empty, without a message, until they exist.
  const QUIET_WHEN_MISSING = new Set(["case-panel", "customer-panel"]);
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status === 404 && event.detail.elt && QUIET_WHEN_MISSING.has(event.detail.elt.id)) return;
    let message = strings.error + " (" + xhr.status + ")";
    try {
      const parsed = JSON.parse(xhr.responseText);
      if (parsed && parsed.error && parsed.error.message) message = parsed.error.message;
    } catch (_) {
      /* not JSON: keep the generic message */
    }
    toast(message, "error");
  });
  document.addEventListener("htmx:sendError", () => toast(strings.offline, "error"));

  // --- the live connection (/api/v1/events) ------------------------------------------------
  // Each event becomes DOM events on <body>: "kefu-event" (every one), "kefu-tickets" (any
  // ticket's), "kefu-ticket-<id>" (that ticket's), "kefu-notice" and "kefu-presence". Parts of
  // a page listen with hx-trigger="kefu-tickets from:body" and reload themselves.
  let lastId = sessionStorage.getItem("kefu-last-event") || null;
  let retry = 500;
  let banner = null;

  function showOffline(offline) {
    if (offline && !banner) {
      banner = document.createElement("div");
      banner.className = "connection";
      banner.setAttribute("role", "status");
      banner.textContent = strings.offline;
      body.appendChild(banner);
    } else if (!offline && banner) {
      banner.remove();
      banner = null;
    }
  }

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  function dispatch(event) {
    fire("kefu-event", event);
    (handlers[event.event] || []).forEach((fn) => fn(event));
    (handlers["*"] || []).forEach((fn) => fn(event));
    if (event.ticket_id) {
      fire("kefu-tickets", event);
      fire("kefu-ticket-" + event.ticket_id, event);
    }
    if (event.event === "notice.created") fire("kefu-notice", event);
    if (event.event === "presence") fire("kefu-presence", event);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/api/v1/events");
    kefu.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "hello", last_event_id: lastId }));
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      if (frame.type === "event") {
        lastId = frame.id;
        sessionStorage.setItem("kefu-last-event", lastId);
        dispatch(frame.event);
      } else if (frame.type === "ready") {
        retry = 500;
        if (frame.last_event_id) {
          lastId = frame.last_event_id;
          sessionStorage.setItem("kefu-last-event", lastId);
        }
        if (banner) toast(strings.online);
        showOffline(false);
        fire("kefu-ready", frame);
      } else if (frame.type === "resync") {
        fire("kefu-tickets", {});
        fire("kefu-notice", {});
      }
    });
    socket.addEventListener("close", (closing) => {
      kefu.socket = null;
      if (closing.code === 4401 || closing.code === 4403) {
        location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
        return;
      }
      showOffline(true);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    });
  }

  function send(frame) {
    if (kefu.socket && kefu.socket.readyState === WebSocket.OPEN) {
      kefu.socket.send(JSON.stringify(frame));
    }
  }

  setInterval(() => send({ type: "ping" }), 25000);
  // A session that may only change its password or enrol gets no socket: do not knock.
  if (body.dataset.live !== "off") connect();

  // --- alerts: a sound and a desktop notification, when the agent allowed them ---------------
  let audio = null;
  function beep() {
    if (localStorage.getItem("kefu-alerts") !== "on") return;
    try {
      audio = audio || new AudioContext();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.45);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.5);
    } catch (_) {
      /* no audio device */
    }
  }

  function raiseAlert(title, text, url) {
    beep();
    toast(title + (text ? "：" + text : ""));
    if (localStorage.getItem("kefu-alerts") === "on" && "Notification" in window && Notification.permission === "granted" && document.hidden) {
      const shown = new Notification(title, { body: text || "", tag: url || title });
      shown.onclick = () => {
        window.focus();
        if (url) location.href = url;
      };
    }
  }

  on("notice.created", (event) => {
    const kind = event.kind || "";
    const url = event.ticket_id ? "/tickets/" + event.ticket_id : "/notifications";
    if (kind.startsWith("sla.")) raiseAlert(strings.slaWarn, event.body, url);
    else if (kind === "routing.crisis") raiseAlert(strings.crisis, event.body, url);
    else raiseAlert(strings.notice, event.body, url);
  });
  // A chat offered to someone changes the ticket's offer field; ask whether it is me.
  on("ticket.changed", (event) => {
    if (!(event.fields || []).includes("chat_offer_user_id")) return;
    fetch("/notifications/chat-offer/" + event.ticket_id, { credentials: "same-origin" })
      .then((answer) => (answer.ok ? answer.json() : { mine: false }))
      .then((offer) => {
        if (offer.mine) raiseAlert(strings.newChat, offer.subject, "/tickets/" + event.ticket_id);
      })
      .catch(() => {});
  });
  on("routing.crisis", (event) => raiseAlert(strings.crisis, "#" + event.ticket_id, "/tickets/" + event.ticket_id));

  // --- clocks: SLA deadlines count down --------------------------------------------------------
  function describe(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + " " + strings.minutes;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " " + strings.hours + " " + (minutes % 60) + " " + strings.minutes;
    return Math.floor(hours / 24) + " " + strings.days;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.clock[data-due]").forEach((clock) => {
      const left = Date.parse(clock.dataset.due) - now;
      clock.classList.toggle("overdue", left < 0);
      clock.classList.toggle("soon", left >= 0 && left < 30 * 60000);
      clock.textContent = left < 0 ? strings.overdue + " " + describe(left) : describe(left);
    });
  }
  setInterval(tick, 15000);
  document.addEventListener("htmx:afterSettle", tick);
  tick();

  // --- clicks -----------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]");
    if (!action) return;
    const name = action.dataset.action;
    if (name === "toggle-nav") {
      const open = body.classList.toggle("nav-open");
      action.setAttribute("aria-expanded", String(open));
    } else if (name === "show-shortcuts") {
      document.getElementById("shortcuts").showModal();
    } else if (name === "enable-alerts") {
      localStorage.setItem("kefu-alerts", "on");
      beep();
      if ("Notification" in window && Notification.permission !== "granted") {
        Notification.requestPermission().then((answer) => toast(answer === "granted" ? strings.alertsOn : strings.alertsDenied));
      } else {
        toast(strings.alertsOn);
      }
    }
  });

  // Close open menus on a click elsewhere.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // --- keyboard shortcuts -----------------------------------------------------------------------
  // Elements declare their key: data-shortcut="r" is clicked (or focused, for a field) on "r".
  // "g" then "i" goes to the inbox; "?" shows the list. Keys typed into a field are the field's.
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest("input, textarea, select, [contenteditable=true]");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && typing) {
      const form = target.closest("form");
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      body.classList.remove("nav-open");
      return;
    }
    if (pendingG) {
      pendingG = false;
      if (event.key === "i") {
        location.href = "/inbox";
        event.preventDefault();
      }
      return;
    }
    if (event.key === "g") {
      pendingG = true;
      setTimeout(() => (pendingG = false), 1200);
      return;
    }
    if (event.key === "?") {
      document.getElementById("shortcuts").showModal();
      event.preventDefault();
      return;
    }
    const bound = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (!bound) return;
    event.preventDefault();
    if (bound.matches("input, textarea, select")) bound.focus();
    else bound.click();
  });
})();
