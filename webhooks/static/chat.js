// Web chat of Trợ lý Tư pháp: plain JavaScript, no build step, no third-party code.
// Talks to POST /api/chat with {session, text} or {session, payload}; shows the replies and
// their quick-reply buttons. Text is always inserted with textContent, never as HTML.
"use strict";

(function () {
  const API = "/api/chat";
  const UPDATES = "/api/chat/updates";
  const LOOK_EVERY_MS = 3000;
  const SESSION_KEY = "tro-ly-tu-phap.session";
  const BUSY_TEXT = "Trợ lý đang trả lời…";
  const ERROR_TEXT =
    "Xin lỗi Anh/chị, hệ thống đang bận hoặc mất kết nối. Anh/chị vui lòng thử lại sau ít phút.";

  const log = document.getElementById("tin-nhan");
  const status = document.getElementById("trang-thai");
  const form = document.getElementById("gui");
  const input = document.getElementById("cau-hoi");
  const sendButton = document.getElementById("nut-gui");
  let busy = false;

  // crypto.randomUUID exists only in secure contexts (https, localhost); a page opened over
  // plain http on the office network still gets a random id from getRandomValues.
  function newSessionId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
      .join("-");
  }

  function sessionId() {
    let id = null;
    try {
      id = window.sessionStorage.getItem(SESSION_KEY);
    } catch (e) {
      id = null; // storage disabled: a new conversation per page load
    }
    if (!id || !/^[A-Za-z0-9-]{8,64}$/.test(id)) {
      id = newSessionId();
      try {
        window.sessionStorage.setItem(SESSION_KEY, id);
      } catch (e) {
        // ignore
      }
    }
    return id;
  }

  const session = sessionId();

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(kind, text) {
    const p = document.createElement("p");
    p.className = "msg " + kind;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = kind === "user" ? "Anh/chị: " : kind === "staff" ? "Cán bộ: " : "Trợ lý: ";
    p.appendChild(who);
    p.appendChild(document.createTextNode(text));
    log.appendChild(p);
    return p;
  }

  function clearQuickReplies() {
    log.querySelectorAll(".quick").forEach((group) => group.remove());
  }

  function addQuickReplies(options) {
    if (!options.length) return;
    const group = document.createElement("div");
    group.className = "quick";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Gợi ý lựa chọn");
    options.forEach((option) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = option.title;
      button.addEventListener("click", () => {
        send({ payload: option.payload }, option.title);
      });
      group.appendChild(button);
    });
    log.appendChild(group);
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    log.setAttribute("aria-busy", value ? "true" : "false");
    status.textContent = value ? BUSY_TEXT : "";
    log.querySelectorAll(".quick button").forEach((b) => {
      b.disabled = value;
    });
  }

  async function send(message, shown) {
    if (busy) return;
    if (shown) {
      clearQuickReplies();
      addMessage("user", shown);
      scrollDown();
    }
    setBusy(true);
    try {
      const response = await fetch(API, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ session: session }, message)),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      let first = null;
      data.replies.forEach((reply, i) => {
        const p = addMessage(reply.staff ? "staff" : "bot", reply.text);
        first = first || p;
        // Quick replies ride on the last message of a turn.
        if (i === data.replies.length - 1) addQuickReplies(reply.quick_replies || []);
      });
      // Answers can be long: show the start of the answer, not its end.
      if (first) first.scrollIntoView({ block: "start" });
    } catch (e) {
      addMessage("error", ERROR_TEXT);
      scrollDown();
    } finally {
      setBusy(false);
      if (shown) input.focus();
    }
  }

  // Messages staff send from the dashboard (a handed-over conversation) answer no request:
  // look for them every few seconds while no request is in flight.
  async function look() {
    if (busy) return;
    try {
      const response = await fetch(UPDATES + "?session=" + encodeURIComponent(session));
      if (!response.ok) return;
      const data = await response.json();
      if (!data.replies.length) return;
      // Taken from the server: shown even if a request started meanwhile, never dropped.
      if (!busy) clearQuickReplies();
      data.replies.forEach((reply, i) => {
        addMessage(reply.staff ? "staff" : "bot", reply.text);
        if (!busy && i === data.replies.length - 1) addQuickReplies(reply.quick_replies || []);
      });
      scrollDown();
    } catch (e) {
      // offline for a moment: the next look tries again
    }
  }
  window.setInterval(look, LOOK_EVERY_MS);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send({ text: text }, text);
  });

  // "Get Started": the welcome message and the main menu.
  send({ payload: "GET_STARTED" }, null);
})();
