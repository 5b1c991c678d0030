/*
 * kefu web chat widget (在线客服) — plain JavaScript served by kefu; no build step, nothing
 * loaded from anywhere else.
 *
 *   <script src="https://KEFU/chat/widget.js" data-channel="KEY" data-lang="zh-CN|en" async></script>
 *
 * Optional: data-user-id, data-timestamp, data-nonce, data-signature, data-name (a site's
 * signed identity of its user; data-email and data-phone when the site verified them and
 * signed them too), data-color (the accent colour).
 *
 * It speaks the visitor protocol: REST for the session, the history, uploads and the offline
 * form; one WebSocket for live messages. Reliability rests on two numbers: every message the
 * visitor writes gets a client id (kept with the text in localStorage until the server has
 * accepted it, so nothing typed is lost to a dropped connection or a closed tab), and every
 * stored message has a server sequence number (the widget resumes after the highest it holds
 * and shows each number once, so a replay that overlaps is harmless).
 *
 * Everything that came from a server or a person is put in the page with textContent (or as
 * an attribute the widget checked), never as HTML. The widget lives in a shadow root, so the
 * host page's styles and the widget's do not leak into each other.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[data-channel][src*="/chat/widget.js"]');
  if (!script || !script.getAttribute("data-channel") || window.KefuWidget) {
    return; // no channel key, or loaded twice: one widget per page
  }

  var KEY = script.getAttribute("data-channel");
  var BASE = script.src.replace(/\/chat\/widget\.js([?#].*)?$/, "");
  var MAX_TEXT = 2000;
  var TYPING_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 6000;
  var RESEND_AFTER_MS = 10000;
  var PING_EVERY_MS = 25000;
  var PONG_WITHIN_MS = 10000;
  var TICK_MS = 2500;
  var BACKOFF_FIRST_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var HISTORY_PAGES = 20;
  var NS = "http://www.w3.org/2000/svg";

  // ---------------------------------------------------------------- texts (zh-CN, en)

  var TEXTS = {
    zh: {
      open: "打开在线客服",
      close: "关闭聊天窗口",
      title: "在线客服",
      online: "客服在线",
      offline: "客服暂时不在线",
      connecting: "正在连接…",
      disconnected: "网络已断开，恢复后会自动重新连接，未发出的消息届时发送",
      placeholder: "输入消息，Enter 发送",
      input: "输入消息",
      send: "发送",
      emoji: "插入表情",
      emojiPicker: "选择表情",
      attach: "发送图片或文件",
      messages: "聊天记录",
      me: "我",
      agent: "客服",
      bot: "智能助手",
      sending: "发送中…",
      waiting: "等待网络，恢复后自动发送",
      sent: "已发送",
      failed: "未能发送",
      typing: "{name}正在输入…",
      typingAnon: "客服正在输入…",
      joined: "客服{name}已接入，为您服务",
      queue: "您正在排队，当前第 {n} 位",
      wait: "预计等待约 {m} 分钟",
      waitShort: "预计等待不到 1 分钟",
      unread: "{n} 条未读消息",
      uploading: "正在上传…",
      uploadFailed: "上传失败",
      retry: "重试",
      tooBig: "文件过大，请选择 {mb} MB 以内的文件",
      download: "下载",
      image: "图片",
      rateLimited: "发送太频繁了，请稍后再试",
      tooLong: "消息过长，请分几条发送",
      offlineTitle: "留下联系方式",
      offlineDefault: "客服暂时不在线。请留下手机号或邮箱，我们会尽快回复您。",
      name: "称呼",
      phone: "手机号",
      email: "邮箱",
      note: "留言内容",
      submit: "提交",
      needContact: "请填写手机号或邮箱",
      needText: "请写下您要咨询的问题",
      badPhone: "手机号格式不正确",
      badEmail: "邮箱格式不正确",
      thanks: "已收到您的留言，我们会尽快与您联系。",
      error: "出错了，请稍后再试",
      botLabel: "智能助手",
      readArticle: "查看帮助文章",
      quickReplies: "快捷回复",
      surveyScores: "为这次服务打分",
      surveyThanks: "感谢您的评价！",
      quick: { "解决了": "解决了", "没解决": "没解决", "转人工": "转人工" },
      contactTitle: "留下联系方式",
      contact: "手机号或邮箱",
      problem: "遇到的问题（选填）",
      badContact: "请填写有效的手机号或邮箱",
      contactSend: "提交",
    },
    en: {
      open: "Open chat",
      close: "Close chat",
      title: "Chat with us",
      online: "We're online",
      offline: "We're away right now",
      connecting: "Connecting…",
      disconnected: "Connection lost. We'll reconnect and send your messages as soon as we can",
      placeholder: "Type a message…",
      input: "Message",
      send: "Send",
      emoji: "Insert emoji",
      emojiPicker: "Choose an emoji",
      attach: "Send an image or file",
      messages: "Conversation",
      me: "Me",
      agent: "Agent",
      bot: "Assistant",
      sending: "Sending…",
      waiting: "Waiting for the network; sent automatically",
      sent: "Sent",
      failed: "Not sent",
      typing: "{name} is typing…",
      typingAnon: "An agent is typing…",
      joined: "{name} joined the chat",
      queue: "You are number {n} in the queue",
      wait: "Expected wait about {m} min",
      waitShort: "Expected wait under a minute",
      unread: "{n} unread messages",
      uploading: "Uploading…",
      uploadFailed: "Upload failed",
      retry: "Retry",
      tooBig: "The file is too large; choose one under {mb} MB",
      download: "Download",
      image: "Image",
      rateLimited: "You're sending too fast; try again in a moment",
      tooLong: "The message is too long; split it up",
      offlineTitle: "Leave your details",
      offlineDefault: "No one is online right now. Leave a phone number or e-mail and we'll get back to you.",
      name: "Name",
      phone: "Phone",
      email: "E-mail",
      note: "Your message for us",
      submit: "Send",
      needContact: "Enter a phone number or an e-mail address",
      needText: "Tell us what we can help with",
      badPhone: "That phone number doesn't look right",
      badEmail: "That e-mail address doesn't look right",
      thanks: "Thanks — we've got your message and will be in touch soon.",
      error: "Something went wrong; try again later",
      botLabel: "Assistant",
      readArticle: "Read the help article",
      quickReplies: "Quick replies",
      surveyScores: "Rate this conversation",
      surveyThanks: "Thank you for your rating!",
      quick: { "解决了": "Solved", "没解决": "Not solved", "转人工": "Talk to a person" },
      contactTitle: "Leave your details",
      contact: "Phone or e-mail",
      problem: "Your problem (optional)",
      badContact: "Enter a valid phone number or e-mail address",
      contactSend: "Send",
    },
  };

  var EMOJI = [
    "😀", "😁", "😂", "🤣", "😊", "😍", "😘", "😎",
    "🤔", "😅", "😭", "😢", "😡", "😱", "😴", "🙄",
    "👍", "👎", "👏", "🙏", "👌", "🤝", "💪", "✌️",
    "❤️", "💔", "🎉", "🎁", "🔥", "⭐", "✅", "❌",
    "📦", "🚚", "💰", "🛒", "📱", "☕", "🌹", "😉",
  ];

  var ICONS = {
    chat: ["M4 4.5h16a1.5 1.5 0 0 1 1.5 1.5v10a1.5 1.5 0 0 1-1.5 1.5H10l-5 4v-4H4A1.5 1.5 0 0 1 2.5 16V6A1.5 1.5 0 0 1 4 4.5z", "M7.5 10h.01M12 10h.01M16.5 10h.01"],
    close: ["M6 6l12 12", "M18 6L6 18"],
    down: ["M6 9.5l6 6 6-6"],
    send: ["M4 12L20 4l-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
    smile: ["M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z", "M8.5 14.5c.9 1.2 2.1 1.9 3.5 1.9s2.6-.7 3.5-1.9", "M9 9.5h.01M15 9.5h.01"],
    clip: ["M20.5 11.5l-8.2 8.2a5 5 0 0 1-7.1-7.1l8.5-8.5a3.4 3.4 0 0 1 4.8 4.8l-8.4 8.4a1.7 1.7 0 0 1-2.4-2.4l7.6-7.6"],
    bot: ["M6 8.5h12a2 2 0 0 1 2 2V17a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-6.5a2 2 0 0 1 2-2z", "M12 4.5v4", "M9 13.5h.01M15 13.5h.01"],
    file: ["M14 3H6.5A1.5 1.5 0 0 0 5 4.5v15A1.5 1.5 0 0 0 6.5 21h11a1.5 1.5 0 0 0 1.5-1.5V8z", "M14 3v5h5"],
  };

  // ---------------------------------------------------------------- small tools

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return values && values[name] != null ? String(values[name]) : "";
    });
  }

  /** An element; string children become text nodes (never HTML). */
  function h(tag, attrs) {
    var el = document.createElement(tag);
    var name;
    for (name in attrs || {}) {
      var value = attrs[name];
      if (value == null || value === false) continue;
      if (name === "text") el.textContent = value;
      else if (name.slice(0, 2) === "on") el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child != null && child !== false) el.append(child);
    }
    return el;
  }

  function icon(name) {
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "kf-icon");
    ICONS[name].forEach(function (d) {
      var path = document.createElementNS(NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  /** A version 4 UUID; crypto.randomUUID exists only on secure (https) pages. */
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /** localStorage under this channel's prefix, or memory where storage is refused. */
  var store = (function () {
    var prefix = "kefu:" + KEY + ":";
    var memory = {};
    return {
      get: function (name) {
        try { return window.localStorage.getItem(prefix + name); } catch (e) { return memory[name] || null; }
      },
      set: function (name, value) {
        try { window.localStorage.setItem(prefix + name, value); } catch (e) { memory[name] = value; }
      },
      remove: function (name) {
        try { window.localStorage.removeItem(prefix + name); } catch (e) { delete memory[name]; }
      },
    };
  })();

  /** Messages written but not yet accepted by the server, kept across page loads and tabs. */
  var outbox = {
    all: function () {
      try {
        var list = JSON.parse(store.get("outbox") || "[]");
        return Array.isArray(list) ? list.filter(function (e) { return e && typeof e.client_id === "string" && typeof e.text === "string"; }) : [];
      } catch (e) {
        return [];
      }
    },
    add: function (entry) {
      var list = outbox.all();
      list.push(entry);
      store.set("outbox", JSON.stringify(list));
    },
    remove: function (clientId) {
      var list = outbox.all();
      var kept = list.filter(function (e) { return e.client_id !== clientId; });
      if (kept.length !== list.length) store.set("outbox", JSON.stringify(kept));
    },
    has: function (clientId) {
      return outbox.all().some(function (e) { return e.client_id === clientId; });
    },
  };

  /** A link for http(s) addresses only: a message cannot smuggle in javascript: or data:. */
  function safeUrl(value) {
    try {
      var url = new URL(value, BASE + "/");
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  var URL_IN_TEXT = /https?:\/\/[^\s<>"'，。！？、；：（）【】]+/g;

  /** Text with its web addresses as links; every piece goes in as text. */
  function linkify(parent, text) {
    var last = 0;
    text.replace(URL_IN_TEXT, function (match, offset) {
      var href = safeUrl(match);
      if (!href) return match;
      if (offset > last) parent.append(text.slice(last, offset));
      parent.append(h("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: match }));
      last = offset + match.length;
      return match;
    });
    if (last < text.length) parent.append(text.slice(last));
  }

  function formatSize(bytes) {
    if (!(bytes >= 0)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  // ---------------------------------------------------------------- the widget

  function Widget() {
    this.lang = "zh";
    this.t = TEXTS.zh;
    this.token = store.get("token");
    this.channel = null;
    this.availability = null;
    this.isOpen = false;
    this.maxSeq = 0;
    this.bySeq = new Map(); // seq -> <li>
    this.pending = new Map(); // client_id -> <li> of a message not yet accepted
    this.forms = 0; // the bot's contact forms shown, for their fields' ids
    this.sentAt = new Map(); // client_id -> when it last went out on the socket
    this.toAck = new Set();
    this.toRead = new Set();
    this.readSent = new Set();
    this.unread = 0;
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.lastFrameAt = 0;
    this.pingSentAt = 0;
    this.lastTypingSent = 0;
    this.typingTimer = null;
    this.sessionNeeded = true;
    this.identityUsed = false;
    this.offlineSent = false;
    this.offlineShown = "";
    this.maxUploadBytes = 5 * 1048576; // kefu's default (KEFU_WEBCHAT_MAX_UPLOAD_BYTES); it decides, this only spares a wait
  }

  Widget.prototype.text = function (name, values) {
    return fill(this.t[name] || TEXTS.zh[name] || name, values);
  };

  // ----- REST

  Widget.prototype.api = function (method, path, body) {
    var headers = { "Accept-Language": this.lang === "en" ? "en" : "zh-CN" };
    if (this.token) headers.Authorization = "Bearer " + this.token;
    var init = { method: method, headers: headers, credentials: "omit", mode: "cors" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(BASE + "/chat/api/" + encodeURIComponent(KEY) + path, init).then(function (res) {
      return res.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var error = new Error((data && data.error && data.error.message) || "HTTP " + res.status);
          error.status = res.status;
          error.code = data && data.error && data.error.code;
          throw error;
        }
        return data;
      });
    });
  };

  Widget.prototype.identity = function () {
    var d = script.dataset;
    if (!d.userId || !d.signature) return null;
    return {
      user_id: d.userId, timestamp: d.timestamp || "", nonce: d.nonce || "", signature: d.signature,
      name: d.name || "", email: d.email || "", phone: d.phone || ""
    };
  };

  Widget.prototype.openSession = function () {
    var self = this;
    // The site's signed claim goes once per page: its nonce is single-use, and once accepted
    // the visitor token carries the link to the customer.
    var identity = this.identityUsed ? null : this.identity();
    return this.api("POST", "/session", { visitor_token: this.token || null, identity: identity }).then(function (data) {
      self.identityUsed = true;
      if (self.token && data.visitor_token !== self.token) self.forgetConversation(); // a new visitor
      self.token = data.visitor_token;
      store.set("token", self.token);
      self.channel = data.channel || {};
      self.sessionNeeded = false;
      return data;
    });
  };

  Widget.prototype.loadHistory = function () {
    var self = this;
    var pages = 0;
    function page(after) {
      return self.api("GET", "/messages?after=" + after + "&limit=100").then(function (data) {
        var list = (data && data.messages) || [];
        list.forEach(function (m) { self.receive(m); });
        pages += 1;
        var next = list.length ? list[list.length - 1].seq : after;
        if (list.length >= 100 && next > after && pages < HISTORY_PAGES) return page(next);
        return null;
      });
    }
    return page(0);
  };

  // ----- start

  /** Shows the widget once kefu has answered with a session; until then it retries with
   *  back-off (the network, or kefu restarting). A channel that does not exist or refuses this
   *  site (404, 403) shows nothing. */
  Widget.prototype.start = function () {
    var self = this;
    this.openSession().then(function (data) {
      var wanted = script.getAttribute("data-lang") || self.channel.language || "zh-CN";
      self.lang = /^en/i.test(wanted) ? "en" : "zh";
      self.t = TEXTS[self.lang];
      self.build();
      self.showChannel(data);
      return self.loadHistory().catch(function () { return null; }).then(function () {
        self.restoreOutbox(); // what was written before a reload and is not stored yet
        self.connect();
      });
    }, function (error) {
      if (error.status === 403 || error.status === 404) {
        console.warn("kefu widget: channel " + KEY + " is not available on this site (" + error.message + ")");
        return;
      }
      setTimeout(function () { self.start(); }, self.nextDelay());
    });
  };

  // ----- the page

  Widget.prototype.build = function () {
    var t = this.t;
    var self = this;
    var host = h("div", { id: "kefu-widget", "data-kefu-widget": "" });
    host.style.visibility = "hidden"; // until the stylesheet is in
    var color = script.getAttribute("data-color");
    if (color && window.CSS && CSS.supports("color", color)) host.style.setProperty("--kf-accent", color);
    var root = host.attachShadow({ mode: "open" });
    var sheet = h("link", { rel: "stylesheet", href: BASE + "/chat/widget.css" });
    sheet.addEventListener("load", function () { host.style.visibility = ""; });
    sheet.addEventListener("error", function () { host.style.visibility = ""; });
    root.append(sheet);

    this.title = h("h2", { id: "kf-title", class: "kf-title", text: t.title });
    this.subtitle = h("p", { class: "kf-subtitle", "aria-live": "polite" });
    this.closeButton = h("button", { type: "button", class: "kf-icon-button kf-close", "aria-label": t.close, title: t.close, onclick: function () { self.close(); } }, icon("close"));
    var header = h("header", { class: "kf-header" },
      h("div", { class: "kf-avatar", "aria-hidden": "true" }, icon("chat")),
      h("div", { class: "kf-heading" }, this.title, this.subtitle),
      this.closeButton);

    this.notice = h("div", { class: "kf-notice", role: "status", hidden: true });
    this.queueNote = h("div", { class: "kf-queue", role: "status", hidden: true });
    this.greeting = h("p", { class: "kf-greeting", hidden: true });
    this.list = h("ol", { class: "kf-list" });
    this.offlineCard = h("div", { class: "kf-offline", hidden: true });
    this.log = h("div", { class: "kf-messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": t.messages, tabindex: "0" },
      this.greeting, this.offlineCard, this.list);
    this.typing = h("div", { class: "kf-typing", "aria-live": "polite", hidden: true });

    this.input = h("textarea", { id: "kf-input", class: "kf-input", rows: "1", maxlength: String(MAX_TEXT), placeholder: t.placeholder, "aria-label": t.input, enterkeyhint: "send" });
    this.input.addEventListener("keydown", function (e) { self.onKey(e); });
    this.input.addEventListener("input", function () { self.onInput(); });
    this.input.addEventListener("paste", function (e) { self.onPaste(e); });
    this.emojiButton = h("button", { type: "button", class: "kf-icon-button", "aria-label": t.emoji, title: t.emoji, "aria-haspopup": "true", "aria-expanded": "false", "aria-controls": "kf-emoji", onclick: function () { self.toggleEmoji(); } }, icon("smile"));
    this.fileInput = h("input", { type: "file", class: "kf-file", tabindex: "-1", "aria-hidden": "true", accept: "image/jpeg,image/png,image/gif,image/webp,application/pdf" });
    this.fileInput.addEventListener("change", function () {
      var file = self.fileInput.files && self.fileInput.files[0];
      self.fileInput.value = "";
      if (file) self.upload(file);
    });
    this.attachButton = h("button", { type: "button", class: "kf-icon-button", "aria-label": t.attach, title: t.attach, onclick: function () { self.fileInput.click(); } }, icon("clip"));
    this.sendButton = h("button", { type: "submit", class: "kf-send", "aria-label": t.send, title: t.send }, icon("send"));
    this.emoji = this.buildEmoji();
    var form = h("form", { class: "kf-composer", onsubmit: function (e) { e.preventDefault(); self.submit(); } },
      this.emoji, this.emojiButton, this.attachButton, this.fileInput, this.input, this.sendButton);

    this.panel = h("section", { id: "kf-panel", class: "kf-panel", role: "dialog", "aria-labelledby": "kf-title", hidden: true },
      header, this.notice, this.queueNote, this.log, this.typing, form);
    this.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !e.defaultPrevented) { e.preventDefault(); self.close(); }
    });
    this.panel.addEventListener("dragover", function (e) { e.preventDefault(); });
    this.panel.addEventListener("drop", function (e) {
      e.preventDefault();
      var file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (file) self.upload(file);
    });

    this.badge = h("span", { class: "kf-badge", "aria-hidden": "true", hidden: true });
    this.launcher = h("button", { type: "button", class: "kf-launcher", "aria-label": t.open, title: t.open, "aria-expanded": "false", "aria-controls": "kf-panel", onclick: function () { self.toggle(); } },
      icon("chat"), icon("down"), this.badge);
    this.frame = h("div", { class: "kf", lang: this.lang === "en" ? "en" : "zh-CN" }, this.panel, this.launcher);
    root.append(this.frame);
    document.body.append(host);
    this.host = host;

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        self.markRead();
        if (!self.ws) self.reconnectNow();
      }
    });
    window.addEventListener("online", function () { self.reconnectNow(); });
    window.addEventListener("offline", function () { self.setNotice(self.text("disconnected")); });
    setInterval(function () { self.tick(); }, TICK_MS);
    try {
      if (window.sessionStorage.getItem("kefu:" + KEY + ":open") === "1") this.open(false);
    } catch (e) { /* no session storage: start closed */ }
  };

  Widget.prototype.buildEmoji = function () {
    var self = this;
    var grid = h("div", { id: "kf-emoji", class: "kf-emoji", role: "group", "aria-label": this.t.emojiPicker, hidden: true });
    EMOJI.forEach(function (symbol) {
      grid.append(h("button", { type: "button", class: "kf-emoji-item", text: symbol, tabindex: "-1", onclick: function () { self.insertEmoji(symbol); } }));
    });
    grid.addEventListener("keydown", function (e) {
      var items = Array.prototype.slice.call(grid.querySelectorAll("button"));
      var i = items.indexOf(self.host.shadowRoot.activeElement);
      var moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8, Home: -i, End: items.length - 1 - i };
      if (e.key in moves && i >= 0) {
        e.preventDefault();
        var next = Math.min(items.length - 1, Math.max(0, i + moves[e.key]));
        items.forEach(function (b, k) { b.tabIndex = k === next ? 0 : -1; });
        items[next].focus();
      } else if (e.key === "Escape") {
        e.preventDefault();
        self.toggleEmoji(false);
        self.emojiButton.focus();
      }
    });
    return grid;
  };

  Widget.prototype.toggleEmoji = function (show) {
    var visible = show === undefined ? this.emoji.hidden : show;
    this.emoji.hidden = !visible;
    this.emojiButton.setAttribute("aria-expanded", visible ? "true" : "false");
    if (visible) {
      var first = this.emoji.querySelector("button");
      this.emoji.querySelectorAll("button").forEach(function (b) { b.tabIndex = b === first ? 0 : -1; });
      first.focus();
    }
  };

  Widget.prototype.insertEmoji = function (symbol) {
    var input = this.input;
    var start = input.selectionStart == null ? input.value.length : input.selectionStart;
    var end = input.selectionEnd == null ? start : input.selectionEnd;
    input.value = input.value.slice(0, start) + symbol + input.value.slice(end);
    input.selectionStart = input.selectionEnd = start + symbol.length;
    this.toggleEmoji(false);
    input.focus();
    this.onInput();
  };

  Widget.prototype.open = function (focus) {
    if (!this.panel) return;
    this.isOpen = true;
    this.panel.hidden = false;
    this.frame.classList.add("kf-is-open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", this.text("close"));
    this.unread = 0;
    this.showUnread();
    this.scrollDown();
    this.markRead();
    try { window.sessionStorage.setItem("kefu:" + KEY + ":open", "1"); } catch (e) { /* ignore */ }
    if (focus !== false) this.input.focus();
  };

  Widget.prototype.close = function () {
    if (!this.panel) return;
    this.isOpen = false;
    this.panel.hidden = true;
    this.toggleEmoji(false);
    this.frame.classList.remove("kf-is-open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", this.text("open"));
    try { window.sessionStorage.removeItem("kefu:" + KEY + ":open"); } catch (e) { /* ignore */ }
    this.launcher.focus();
  };

  Widget.prototype.toggle = function () {
    if (this.isOpen) this.close();
    else this.open();
  };

  Widget.prototype.showUnread = function () {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = this.unread > 99 ? "99+" : String(this.unread);
    var label = this.isOpen ? this.text("close") : this.text("open");
    if (this.unread && !this.isOpen) {
      label += this.lang === "en" ? " (" + this.text("unread", { n: this.unread }) + ")" : "（" + this.text("unread", { n: this.unread }) + "）";
    }
    this.launcher.setAttribute("aria-label", label);
  };

  Widget.prototype.setNotice = function (text) {
    if (!this.notice) return;
    this.notice.textContent = text || "";
    this.notice.hidden = !text;
  };

  Widget.prototype.scrollDown = function () {
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.nearBottom = function () {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
  };

  // ----- channel, availability, queue

  Widget.prototype.showChannel = function (data) {
    var channel = this.channel || {};
    if (channel.name) this.title.textContent = channel.name;
    if (channel.greeting) {
      this.greeting.textContent = channel.greeting;
      this.greeting.hidden = false;
    }
    if (data && data.availability) this.showAvailability(data.availability);
  };

  /** kefu words the expected response in the channel's language; a widget switched to another
   *  language keeps to its own words rather than mix two. */
  Widget.prototype.serverWords = function (text) {
    var language = (this.channel && this.channel.language) || "zh-CN";
    return text && /^en/i.test(language) === (this.lang === "en") ? text : "";
  };

  Widget.prototype.showAvailability = function (a) {
    this.availability = a;
    var expected = this.serverWords(a.expected_response);
    // Online, the expected wait is short and sits in the header; offline, the next opening
    // goes in the card with the leave-a-message form.
    this.subtitle.textContent = a.online
      ? this.text("online") + (expected ? " · " + expected : "")
      : this.text("offline");
    this.frame.classList.toggle("kf-is-offline", !a.online);
    this.showQueue(a.queue_position, a.expected_wait_seconds);
    if (this.offlineSent) return;
    if (a.online || (this.channel && this.channel.bot)) { // the bot asks for contacts itself
      this.offlineCard.hidden = true;
      this.offlineShown = "";
    } else if (this.offlineCard.hidden || this.offlineShown !== expected) {
      this.buildOfflineCard(expected);
    }
  };

  Widget.prototype.showQueue = function (position, waitSeconds) {
    if (!position) {
      this.queueNote.hidden = true;
      this.queueNote.textContent = "";
      return;
    }
    var parts = [this.text("queue", { n: position })];
    if (waitSeconds != null) {
      parts.push(waitSeconds < 60 ? this.text("waitShort") : this.text("wait", { m: Math.ceil(waitSeconds / 60) }));
    }
    this.queueNote.textContent = parts.join(this.lang === "en" ? ". " : "，");
    this.queueNote.hidden = false;
  };

  /** What an away channel says (its next opening, its offline message) and, if the channel
   *  wants it, the form that collects a phone number or e-mail. */
  Widget.prototype.buildOfflineCard = function (expected) {
    var self = this;
    var t = this.t;
    var card = this.offlineCard;
    card.textContent = "";
    this.offlineShown = expected;
    card.hidden = false;
    if (expected) card.append(h("p", { class: "kf-offline-when", text: expected }));
    var message = (this.channel && this.channel.offline_message) || t.offlineDefault;
    if (!this.channel || !this.channel.offline_form) {
      card.append(h("p", { class: "kf-offline-text", text: message }));
      return;
    }
    var error = h("p", { class: "kf-form-error", role: "alert" });
    function field(name, label, type, extra) {
      var id = "kf-offline-" + name;
      var control = type === "textarea"
        ? h("textarea", Object.assign({ id: id, name: name, rows: "3", maxlength: String(MAX_TEXT) }, extra))
        : h("input", Object.assign({ id: id, name: name, type: type, maxlength: "100" }, extra));
      return h("div", { class: "kf-field" }, h("label", { for: id, text: label }), control);
    }
    var form = h("form", { class: "kf-offline-form", "aria-labelledby": "kf-offline-title", novalidate: true },
      h("h3", { id: "kf-offline-title", text: t.offlineTitle }),
      h("p", { class: "kf-offline-text", text: message }),
      field("name", t.name, "text", { autocomplete: "name" }),
      field("phone", t.phone, "tel", { autocomplete: "tel", inputmode: "tel" }),
      field("email", t.email, "email", { autocomplete: "email" }),
      field("text", t.note, "textarea", {}),
      error,
      h("button", { type: "submit", class: "kf-button", text: t.submit }));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var values = {};
      ["name", "phone", "email", "text"].forEach(function (n) { values[n] = form.elements[n].value.trim(); });
      var problem = !values.phone && !values.email ? t.needContact
        : values.phone && !/^\+?[\d\s-]{6,20}$/.test(values.phone) ? t.badPhone
          : values.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email) ? t.badEmail
            : !values.text ? t.needText : "";
      error.textContent = problem;
      if (problem) return;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var body = { name: values.name, phone: values.phone || null, email: values.email || null, text: values.text };
      self.api("POST", "/offline", body).then(function () {
        self.offlineSent = true;
        card.textContent = "";
        card.append(h("p", { class: "kf-thanks", role: "status", text: t.thanks }));
      }, function (err) {
        button.disabled = false;
        error.textContent = err.message || t.error;
      });
    });
    card.append(form);
  };

  // ----- messages

  Widget.prototype.authorOf = function (m) {
    if (m.from === "visitor") return this.text("me");
    if (m.author) return m.author;
    return m.from === "bot" ? this.text("bot") : this.text("agent");
  };

  Widget.prototype.timeOf = function (iso) {
    var date = iso ? new Date(iso) : new Date();
    if (isNaN(date.getTime())) return "";
    var today = new Date().toDateString() === date.toDateString();
    var options = today ? { hour: "2-digit", minute: "2-digit" } : { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" };
    try {
      return new Intl.DateTimeFormat(this.lang === "en" ? "en" : "zh-CN", options).format(date);
    } catch (e) {
      return date.toLocaleTimeString();
    }
  };

  /** One message's list item; ``m`` may be a server Msg or a local one still pending. */
  Widget.prototype.renderMessage = function (m) {
    var from = ["visitor", "agent", "bot", "system"].indexOf(m.from) >= 0 ? m.from : "agent";
    var li = h("li", { class: "kf-msg kf-from-" + from, "data-from": from });
    if (from === "system") {
      li.append(h("p", { class: "kf-system", text: m.text || "" }));
      return li;
    }
    var bot = from === "bot" && m.bot && typeof m.bot === "object" ? m.bot : null;
    if (from === "bot") {
      li.append(h("span", { class: "kf-author kf-bot-label", "aria-hidden": "true" }, icon("bot"), h("span", { text: this.text("botLabel") })));
    } else if (from !== "visitor") {
      li.append(h("span", { class: "kf-author", "aria-hidden": "true", text: this.authorOf(m) }));
    }
    var body = h("div", { class: "kf-body" }, h("span", { class: "kf-sr", text: this.authorOf(m) + (this.lang === "en" ? ": " : "：") }));
    var text = m.text ? String(m.text) : "";
    var article = bot && bot.article && typeof bot.article.url === "string" ? bot.article : null;
    if (article) { // the article's address is its link below, not a line of text
      text = text.split("\n").filter(function (line) { return line.indexOf(article.url) < 0; }).join("\n");
    }
    if (text) {
      var p = h("p", { class: "kf-text" });
      linkify(p, text);
      body.append(p);
    }
    var href = article ? safeUrl(article.url) : null;
    if (href) {
      body.append(h("a", { class: "kf-article", href: href, target: "_blank", rel: "noopener noreferrer" },
        h("span", { class: "kf-article-title", text: String(article.title || "") }),
        h("span", { class: "kf-article-more", text: this.text("readArticle") + " ↗" })));
    }
    var self = this;
    (Array.isArray(m.attachments) ? m.attachments : []).forEach(function (a) { body.append(self.renderAttachment(a)); });
    li.append(body);
    if (bot && Array.isArray(bot.quick_replies) && bot.quick_replies.length) li.append(this.renderQuickReplies(bot.quick_replies));
    if (bot && bot.form === "contact") li.append(this.renderContactForm());
    if (bot && bot.kind === "survey" && bot.survey) {
      var asked = this.renderSurvey(bot.survey);
      if (asked) li.append(asked);
    }
    li.append(h("span", { class: "kf-meta" }, h("time", { datetime: m.created_at || "", text: this.timeOf(m.created_at) }), h("span", { class: "kf-state" })));
    return li;
  };

  /** The bot's quick replies (解决了 / 没解决 / 转人工): each sends its words as the visitor's
   *  message. Shown only under the newest message (the stylesheet hides older ones). */
  Widget.prototype.renderQuickReplies = function (replies) {
    var self = this;
    var labels = this.t.quick || {};
    var group = h("div", { class: "kf-quick", role: "group", "aria-label": this.text("quickReplies") });
    replies.forEach(function (words) {
      if (typeof words !== "string") return;
      group.append(h("button", { type: "button", class: "kf-quick-reply", text: labels[words] || words,
        onclick: function () { self.sendText(words); } }));
    });
    return group;
  };

  /** A survey asked inline (满意度评价): one scale as buttons, answered with one tap. A follow-up
   *  or a survey of several questions is answered through the link in the message's text. */
  Widget.prototype.renderSurvey = function (survey) {
    var kinds = Array.isArray(survey.kinds) ? survey.kinds : [];
    if (survey.follow_up || kinds.length !== 1 || typeof survey.token !== "string") return null;
    var self = this;
    var kind = kinds[0];
    var low = Number(kind.low), high = Number(kind.high);
    if (!(high >= low) || high - low > 10) return null;
    var group = h("div", { class: "kf-quick kf-survey", role: "group", "aria-label": this.text("surveyScores") });
    for (var score = low; score <= high; score++) {
      (function (n) {
        group.append(h("button", { type: "button", class: "kf-quick-reply", text: String(n),
          onclick: function () {
            var scores = {};
            scores[String(kind.kind)] = n;
            self.api("POST", "/survey", { token: survey.token, scores: scores }).then(function () {
              group.replaceChildren(h("p", { class: "kf-survey-done", text: self.text("surveyThanks") }));
            }, function () {
              group.replaceChildren(h("p", { class: "kf-form-error", text: self.text("error") }));
            });
          } }));
      })(score);
    }
    return group;
  };

  /** Out of hours the bot asks for a phone number or an e-mail: a small form that sends them
   *  (and the problem, if written) as the visitor's message, which the bot reads. */
  Widget.prototype.renderContactForm = function () {
    var self = this;
    var t = this.t;
    var n = ++this.forms;
    var error = h("p", { class: "kf-form-error", role: "alert" });
    var contact = h("input", { id: "kf-bot-contact-" + n, name: "contact", type: "text", maxlength: "100", autocomplete: "tel", inputmode: "email" });
    var problem = h("textarea", { id: "kf-bot-problem-" + n, name: "problem", rows: "2", maxlength: "1000" });
    var form = h("form", { class: "kf-contact", novalidate: true, "aria-label": t.contactTitle },
      h("div", { class: "kf-field" }, h("label", { for: contact.id, text: t.contact }), contact),
      h("div", { class: "kf-field" }, h("label", { for: problem.id, text: t.problem }), problem),
      error,
      h("button", { type: "submit", class: "kf-button", text: t.contactSend }));
    contact.addEventListener("input", function () { error.textContent = ""; });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var value = contact.value.trim();
      var ok = /^\+?[\d\s-]{7,20}$/.test(value) || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
      error.textContent = ok ? "" : t.badContact;
      if (!ok) return;
      var words = problem.value.trim();
      self.sendText(words ? value + "\n" + words : value);
    });
    return form;
  };

  /** Attachments are fetched with the visitor's token, so only this visitor can open them. */
  Widget.prototype.renderAttachment = function (a) {
    var self = this;
    var name = String(a.filename || this.text("download"));
    var url = safeUrl(a.url || "/chat/api/" + encodeURIComponent(KEY) + "/attachments/" + encodeURIComponent(a.id));
    var isImage = /^image\/(jpeg|png|gif|webp)$/.test(String(a.content_type || ""));
    var blobUrl = null;
    function load() {
      if (blobUrl) return Promise.resolve(blobUrl);
      return fetch(url, { headers: { Authorization: "Bearer " + self.token }, credentials: "omit", mode: "cors" }).then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.blob();
      }).then(function (blob) {
        // A blob: address runs with the host page's origin, so its type is ours to choose: a
        // raster image type for images (never SVG, never HTML), a download for anything else.
        var typed = new Blob([blob], { type: isImage ? String(a.content_type) : "application/octet-stream" });
        blobUrl = URL.createObjectURL(typed);
        return blobUrl;
      });
    }
    if (isImage && url) {
      var img = h("img", { class: "kf-image", alt: name });
      var link = h("a", { class: "kf-image-link", href: "#", title: name }, img);
      link.addEventListener("click", function (e) {
        e.preventDefault();
        load().then(function (u) { window.open(u, "_blank", "noopener"); });
      });
      load().then(function (u) { img.src = u; }, function () { img.alt = name + "（" + self.text("uploadFailed") + "）"; });
      return link;
    }
    var card = h("a", { class: "kf-attachment", href: "#", download: name },
      icon("file"),
      h("span", { class: "kf-attachment-name", text: name }),
      h("span", { class: "kf-attachment-size", text: formatSize(a.size) }));
    card.addEventListener("click", function (e) {
      e.preventDefault();
      if (!url) return;
      load().then(function (u) {
        var a2 = h("a", { href: u, download: name });
        self.host.shadowRoot.append(a2);
        a2.click();
        a2.remove();
      });
    });
    return card;
  };

  Widget.prototype.setState = function (li, state, text) {
    li.setAttribute("data-state", state);
    var slot = li.querySelector(".kf-state");
    if (slot) slot.textContent = text || "";
  };

  /** Puts a stored message in its place by seq (``data-order``); local notes sit after what
   *  was shown when they came, and pending messages, with no order yet, below them all. */
  Widget.prototype.place = function (li, order) {
    var stick = this.nearBottom();
    li.setAttribute("data-order", String(order));
    var items = this.list.children;
    var before = null;
    for (var i = items.length - 1; i >= 0; i--) {
      var other = items[i];
      if (other === li) continue;
      if (!other.hasAttribute("data-order") || Number(other.getAttribute("data-order")) > order) before = other;
      else break;
    }
    this.list.insertBefore(li, before);
    if (stick) this.scrollDown();
  };

  /** A line of the widget's own (an agent joined): not stored, so it lives until a reload. */
  Widget.prototype.note = function (text) {
    this.place(this.renderMessage({ from: "system", text: text }), this.maxSeq + 0.5);
  };

  /** A stored message from the server: history, the socket, or an upload's answer. */
  Widget.prototype.receive = function (m) {
    if (!m || typeof m.seq !== "number" || !this.list) return;
    if (m.seq > this.maxSeq) this.maxSeq = m.seq;
    if (this.bySeq.has(m.seq)) return; // shown already: a replay or an echo
    var shown = m.client_id ? this.pending.get(m.client_id) : null;
    if (m.client_id && m.from === "visitor") this.forget(m.client_id);
    var li = this.renderMessage(m);
    li.setAttribute("data-seq", String(m.seq));
    if (m.client_id) li.setAttribute("data-client-id", m.client_id);
    if (m.from === "visitor") this.setState(li, "sent", this.text("sent"));
    this.bySeq.set(m.seq, li);
    if (shown) shown.remove(); // the stored form (with its files) replaces the one shown meanwhile
    this.place(li, m.seq);
    if (m.from !== "visitor" && m.from !== "system") {
      this.hideTyping();
      if (m.seq === this.maxSeq) this.showQueue(null); // someone is answering: no longer waiting
      if (m.delivery_state !== "delivered" && m.delivery_state !== "read") this.toAck.add(m.seq);
      if (m.delivery_state !== "read") {
        this.toRead.add(m.seq);
        if (!this.isOpen || document.visibilityState !== "visible") {
          this.unread += 1;
          this.showUnread();
        }
      }
      this.flushReceipts();
    }
  };

  /** The message is stored: it leaves the outbox for good and is never sent again. */
  Widget.prototype.forget = function (clientId) {
    this.pending.delete(clientId);
    this.sentAt.delete(clientId);
    outbox.remove(clientId);
  };

  /** The server stored a message we wrote (``accepted``): what we show is what it keeps. */
  Widget.prototype.accepted = function (clientId, seq) {
    var li = this.pending.get(clientId);
    this.forget(clientId);
    if (!li || typeof seq !== "number") return;
    if (this.bySeq.has(seq)) { // its echo came first: keep one
      li.remove();
      return;
    }
    li.setAttribute("data-seq", String(seq));
    this.setState(li, "sent", this.text("sent"));
    this.bySeq.set(seq, li);
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.place(li, seq);
  };

  Widget.prototype.showPending = function (entry) {
    var li = this.renderMessage({ from: "visitor", text: entry.text, attachments: [], created_at: entry.at });
    li.setAttribute("data-client-id", entry.client_id);
    this.setState(li, "pending", this.ready ? this.text("sending") : this.text("waiting"));
    this.pending.set(entry.client_id, li);
    this.list.append(li);
    this.scrollDown();
    return li;
  };

  Widget.prototype.restoreOutbox = function () {
    var self = this;
    outbox.all().forEach(function (entry) {
      if (!self.pending.has(entry.client_id)) self.showPending(entry);
    });
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    if (text.length > MAX_TEXT) {
      this.flash(this.text("tooLong"));
      return;
    }
    this.input.value = "";
    this.resizeInput();
    this.sendText(text);
    this.input.focus();
  };

  /** A message of the visitor's: kept in the outbox until the server accepted it. */
  Widget.prototype.sendText = function (text) {
    var entry = { client_id: uuid(), text: text, at: new Date().toISOString() };
    outbox.add(entry);
    this.showPending(entry);
    this.sendEntry(entry);
  };

  Widget.prototype.sendEntry = function (entry) {
    if (!this.ready) return;
    this.send({ type: "message", client_id: entry.client_id, text: entry.text });
    this.sentAt.set(entry.client_id, Date.now());
    var li = this.pending.get(entry.client_id);
    if (li) this.setState(li, "pending", this.text("sending"));
  };

  Widget.prototype.flushOutbox = function () {
    var self = this;
    outbox.all().forEach(function (entry) {
      if (!self.pending.has(entry.client_id)) self.showPending(entry); // written in another tab
      self.sendEntry(entry);
    });
  };

  Widget.prototype.markRead = function () {
    if (!this.isOpen || document.visibilityState !== "visible") return;
    this.unread = 0;
    if (this.badge) this.showUnread();
    this.flushReceipts();
  };

  Widget.prototype.flushReceipts = function () {
    if (!this.ready) return;
    var self = this;
    this.toAck.forEach(function (seq) { self.send({ type: "ack", seq: seq }); });
    this.toAck.clear();
    if (!this.isOpen || document.visibilityState !== "visible") return;
    this.toRead.forEach(function (seq) {
      if (!self.readSent.has(seq)) self.send({ type: "read", seq: seq });
      self.readSent.add(seq);
    });
    this.toRead.clear();
  };

  Widget.prototype.flash = function (text) {
    var self = this;
    this.setNotice(text);
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(function () { if (self.notice.textContent === text) self.setNotice(""); }, 5000);
  };

  // ----- composing

  Widget.prototype.onKey = function (e) {
    // Enter while an input method is composing (拼音) picks a candidate; it must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.submit();
    }
  };

  Widget.prototype.onInput = function () {
    this.resizeInput();
    var now = Date.now();
    if (this.ready && this.input.value && now - this.lastTypingSent > TYPING_EVERY_MS) {
      this.lastTypingSent = now;
      this.send({ type: "typing" });
    }
  };

  Widget.prototype.resizeInput = function () {
    var input = this.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  };

  Widget.prototype.onPaste = function (e) {
    var items = (e.clipboardData && e.clipboardData.files) || [];
    if (items.length) {
      e.preventDefault();
      this.upload(items[0]);
    }
  };

  Widget.prototype.showTyping = function (name) {
    var self = this;
    this.typing.textContent = name ? this.text("typing", { name: name }) : this.text("typingAnon");
    this.typing.append(h("span", { class: "kf-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")));
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(function () { self.hideTyping(); }, TYPING_SHOWN_MS);
  };

  Widget.prototype.hideTyping = function () {
    clearTimeout(this.typingTimer);
    if (this.typing) {
      this.typing.hidden = true;
      this.typing.textContent = "";
    }
  };

  // ----- uploads

  Widget.prototype.upload = function (file) {
    var self = this;
    var clientId = uuid();
    var li = this.renderMessage({ from: "visitor", text: "", attachments: [], created_at: new Date().toISOString() });
    li.setAttribute("data-client-id", clientId);
    li.querySelector(".kf-body").append(h("p", { class: "kf-text kf-upload-name", text: file.name }));
    this.pending.set(clientId, li);
    this.list.append(li);
    this.scrollDown();
    if (file.size > this.maxUploadBytes) {
      this.pending.delete(clientId);
      this.setState(li, "failed", this.text("tooBig", { mb: Math.round(this.maxUploadBytes / 1048576) }));
      return;
    }
    this.setState(li, "pending", this.text("uploading"));
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("client_id", clientId);
    this.api("POST", "/uploads", form).then(function (data) {
      self.receive(data && data.message); // unless the socket's echo showed it first
    }, function (error) {
      self.pending.delete(clientId);
      self.setState(li, "failed", error.status ? error.message : self.text("uploadFailed"));
      var retry = h("button", { type: "button", class: "kf-retry", text: self.text("retry") });
      retry.addEventListener("click", function () {
        li.remove();
        self.upload(file);
      });
      li.querySelector(".kf-meta").append(retry);
    });
  };

  // ----- the socket

  Widget.prototype.send = function (frame) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(frame));
  };

  Widget.prototype.connect = function () {
    var self = this;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.ws) return;
    if (this.sessionNeeded || !this.token) {
      this.openSession().then(function (data) {
        if (!self.list) return;
        self.showChannel(data);
        self.connect();
      }, function () { self.scheduleReconnect(); });
      return;
    }
    // The token rides as a subprotocol, not in the URL (where proxies and logs would keep it).
    var url = BASE.replace(/^http/, "ws") + "/chat/ws/" + encodeURIComponent(KEY);
    var ws;
    try {
      ws = new WebSocket(url, ["kefu", "kefu.bearer." + this.token]);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.ready = false;
    if (this.notice.hidden) this.setNotice(this.text("connecting"));
    ws.onopen = function () {
      self.lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: "hello", last_seq: self.maxSeq }));
    };
    ws.onmessage = function (event) {
      if (self.ws !== ws) return;
      self.lastFrameAt = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") self.onFrame(frame);
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      self.ready = false;
      self.markWaiting();
      // 4401/4403/4404: the token was refused; ask for a session again before reconnecting.
      if (event.code >= 4400 && event.code < 4500) self.sessionNeeded = true;
      self.scheduleReconnect();
    };
  };

  Widget.prototype.markWaiting = function () {
    var self = this;
    this.setNotice(this.text("disconnected"));
    this.pending.forEach(function (li) {
      if (li.getAttribute("data-state") === "pending" && !li.querySelector(".kf-upload-name")) self.setState(li, "pending", self.text("waiting"));
    });
  };

  Widget.prototype.scheduleReconnect = function () {
    var self = this;
    if (this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(function () {
      self.reconnectTimer = null;
      self.connect();
    }, this.nextDelay());
  };

  /** Exponential back-off with jitter, so widgets do not all come back at once after a restart. */
  Widget.prototype.nextDelay = function () {
    var ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, this.attempt));
    this.attempt += 1;
    return ceiling / 2 + Math.random() * ceiling / 2;
  };

  Widget.prototype.reconnectNow = function () {
    if (this.ws || !this.list) return;
    this.attempt = 0;
    this.connect();
  };

  Widget.prototype.tick = function () {
    var now = Date.now();
    if (this.ws && this.ready) {
      if (this.pingSentAt && this.lastFrameAt < this.pingSentAt && now - this.pingSentAt > PONG_WITHIN_MS) {
        this.pingSentAt = 0;
        this.ws.close(); // no answer: a dead connection that the browser has not noticed
        return;
      }
      if (now - this.lastFrameAt > PING_EVERY_MS && (!this.pingSentAt || this.lastFrameAt >= this.pingSentAt)) {
        this.pingSentAt = now;
        this.send({ type: "ping" });
      }
      var self = this;
      outbox.all().forEach(function (entry) {
        var at = self.sentAt.get(entry.client_id);
        if (!at || now - at > RESEND_AFTER_MS) self.sendEntry(entry); // the server keeps one
      });
    }
  };

  Widget.prototype.onFrame = function (f) {
    switch (f.type) {
      case "message":
        this.receive(f.message);
        break;
      case "accepted":
        if (typeof f.client_id === "string") this.accepted(f.client_id, f.seq);
        break;
      case "ready":
        this.ready = true;
        this.attempt = 0;
        this.setNotice("");
        this.flushOutbox();
        this.flushReceipts();
        break;
      case "typing":
        if (f.who !== "visitor") this.showTyping(f.name);
        break;
      case "queue":
        this.showQueue(f.position, f.expected_wait_seconds);
        break;
      case "agent":
        if (f.joined) {
          this.showQueue(null);
          this.note(this.text("joined", { name: f.name || "" }));
        }
        break;
      case "availability":
        this.showAvailability(f);
        break;
      case "error":
        this.onError(f);
        break;
      default:
        break; // pong, and kinds a newer server may add
    }
  };

  Widget.prototype.onError = function (f) {
    if (f.code === "rate_limited") {
      this.flash(this.text("rateLimited"));
      return; // what is pending goes again on the next tick after the back-off
    }
    if (f.client_id && this.pending.has(f.client_id) && f.code !== "internal") {
      var li = this.pending.get(f.client_id);
      this.pending.delete(f.client_id);
      this.sentAt.delete(f.client_id);
      outbox.remove(f.client_id); // refused for good (too long, …): resending cannot help
      this.setState(li, "failed", f.message || this.text("failed"));
      return;
    }
    this.flash(f.code === "too_long" ? this.text("tooLong") : f.message || this.text("error"));
  };

  /** The server made a new visitor (the old token was refused): the old messages are not theirs. */
  Widget.prototype.forgetConversation = function () {
    this.maxSeq = 0;
    this.bySeq.clear();
    this.toAck.clear();
    this.toRead.clear();
    if (this.list) {
      var self = this;
      Array.prototype.slice.call(this.list.children).forEach(function (li) {
        if (!self.pending.has(li.getAttribute("data-client-id"))) li.remove();
      });
    }
  };

  var widget = new Widget();
  window.KefuWidget = {
    open: function () { widget.open(); },
    close: function () { widget.close(); },
  };
  if (document.body) widget.start();
  else document.addEventListener("DOMContentLoaded", function () { widget.start(); });
})();
