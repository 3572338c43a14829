// The store assistant's chat widget. Plain JavaScript, no HTML from the server's
// answers is ever interpreted: text goes in with textContent.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("assistant-config").textContent);
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const send = document.getElementById("chat-send");
  const count = document.getElementById("chat-count");
  const statusLine = document.getElementById("chat-status");

  let socket = null;
  let conversationId = null;
  let running = null; // {answerId, lastSeq, bubble, prompt}
  let retryDelay = 500;

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function bubble(kind, text) {
    const el = document.createElement("div");
    el.className = "msg " + kind;
    el.textContent = text || "";
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function setBusy(busy) {
    send.disabled = busy;
    input.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function finish() {
    running = null;
    setBusy(false);
    statusLine.textContent = "";
    input.focus();
  }

  function showError(message, prompt) {
    const el = bubble("error", message + " ");
    if (prompt) {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "retry";
      retry.textContent = "Try again";
      retry.addEventListener("click", () => { el.remove(); ask(prompt); });
      el.appendChild(retry);
    }
  }

  function onFrame(frame) {
    if (!running || frame.answerId !== running.answerId) {
      if (frame.type === "error" && frame.answerId === null) showError(frame.message);
      return;
    }
    switch (frame.type) {
      case "accepted":
        conversationId = frame.conversationId;
        statusLine.textContent = "Thinking…";
        break;
      case "status":
        statusLine.textContent = frame.state === "tool" ? "Looking that up…" : "Thinking…";
        break;
      case "chunk":
        if (frame.seq === running.lastSeq + 1) {
          running.bubble.textContent += frame.text;
          running.lastSeq = frame.seq;
          log.scrollTop = log.scrollHeight;
        }
        break;
      case "done":
        running.bubble.classList.remove("streaming");
        finish();
        break;
      case "error": {
        const prompt = running.prompt;
        running.bubble.remove();
        finish();
        showError(frame.message, prompt);
        break;
      }
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/assistant/");
    socket.addEventListener("open", () => {
      retryDelay = 500;
      statusLine.textContent = running ? "Reconnected, catching up…" : "";
      if (running) {
        socket.send(JSON.stringify({type: "subscribe", answerId: running.answerId, after: running.lastSeq}));
      }
    });
    socket.addEventListener("message", (event) => {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* ignore a malformed frame */ }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        statusLine.textContent = "You are signed out. Reload the page to sign in again.";
        setBusy(true);
        return;
      }
      statusLine.textContent = "Connection lost, reconnecting…";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function ask(prompt) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showError("Not connected yet, please try again in a moment.", prompt);
      return;
    }
    bubble("me", prompt);
    const answerId = config.sub + "." + uuid4();
    running = {answerId, lastSeq: -1, bubble: bubble("bot streaming", ""), prompt};
    setBusy(true);
    const frame = {type: "ask", answerId, prompt};
    if (conversationId) frame.conversationId = conversationId;
    socket.send(JSON.stringify(frame));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const prompt = input.value.trim();
    if (!prompt || running) return;
    if (prompt.length > config.maxPrompt) {
      showError(`Please keep questions under ${config.maxPrompt} characters.`);
      return;
    }
    input.value = "";
    count.textContent = `0 / ${config.maxPrompt}`;
    ask(prompt);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    count.textContent = `${input.value.length} / ${config.maxPrompt}`;
  });
  connect();
})();
