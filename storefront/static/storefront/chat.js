// The store assistant's chat widget. Plain JavaScript. Nothing from an answer is ever
// interpreted as HTML: text goes in with textContent.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("assistant-config").textContent);
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const send = document.getElementById("chat-send");
  const stop = document.getElementById("chat-stop");
  const count = document.getElementById("chat-count");
  const statusLine = document.getElementById("chat-status");
  const list = document.getElementById("chat-conversations");
  const newButton = document.getElementById("chat-new");

  let socket = null;
  let conversationId = null;
  let running = null; // {answerId, lastSeq, bubble, prompt}
  let retryDelay = 500;
  let closedForGood = false;

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
    stop.hidden = !busy;
    input.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function finish() {
    running = null;
    setBusy(false);
    statusLine.textContent = "";
    if (!closedForGood) input.focus();
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

  function rememberConversation(id) {
    conversationId = id;
    const url = new URL(location.href);
    if (url.searchParams.get("conversation") !== id) {
      url.searchParams.set("conversation", id);
      history.replaceState(null, "", url.pathname + url.search);
    }
  }

  function onFrame(frame) {
    if (!running || frame.answerId !== running.answerId) {
      if (frame.type === "error" && frame.answerId === null) showError(frame.message);
      return;
    }
    switch (frame.type) {
      case "accepted":
        rememberConversation(frame.conversationId);
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
        loadConversations();
        break;
      case "error": {
        const prompt = running.prompt;
        running.bubble.classList.remove("streaming");
        if (frame.code === "cancelled") {
          running.bubble.classList.add("stopped");
          finish();
          break;
        }
        if (!running.bubble.textContent) running.bubble.remove();
        finish();
        showError(frame.message, frame.code === "rate_limited" || frame.code === "agent_unavailable" ||
          frame.code === "internal" ? prompt : null);
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
      if (event.code === 4401 || event.code === 4404) {
        closedForGood = true;
        statusLine.textContent = event.code === 4401
          ? "You are signed out. Reload the page to sign in again."
          : "This store is unavailable.";
        document.body.dataset.assistant = "closed";
        send.disabled = true;
        stop.hidden = true;
        return;
      }
      statusLine.textContent = "Connection lost, reconnecting…";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function ask(prompt) {
    if (closedForGood) {
      statusLine.textContent = "The assistant is closed on this page. Reload the page to continue.";
      return;
    }
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

  async function loadConversations() {
    try {
      const response = await fetch("/assistant/conversations/", {credentials: "same-origin"});
      if (!response.ok) return;
      const data = await response.json();
      list.replaceChildren();
      for (const c of data.conversations) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = "/?conversation=" + encodeURIComponent(c.id);
        const when = new Date(c.createdAt);
        link.textContent = `${when.toLocaleDateString()} ${when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})}: ` +
          (c.title || "(untitled)");
        if (c.id === conversationId) {
          link.setAttribute("aria-current", "true");
          link.textContent += " (this one)";
        }
        item.appendChild(link);
        list.appendChild(item);
      }
    } catch (e) { /* the list is a convenience */ }
  }

  async function reopen(id) {
    const response = await fetch("/assistant/conversations/" + encodeURIComponent(id) + "/",
      {credentials: "same-origin"});
    if (!response.ok) {
      showError("That conversation is not available.");
      history.replaceState(null, "", "/");
      return;
    }
    const data = await response.json();
    conversationId = data.id;
    for (const turn of data.turns) {
      bubble("me", turn.prompt);
      const answer = bubble("bot", turn.text);
      if (turn.status === "running") {
        answer.classList.add("streaming");
        running = {answerId: turn.answerId, lastSeq: turn.lastSeq, bubble: answer, prompt: turn.prompt};
        setBusy(true);
      } else if (turn.status === "error") {
        answer.classList.add("stopped");
      }
    }
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
  stop.addEventListener("click", () => {
    if (running && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "cancel", answerId: running.answerId}));
    }
  });
  newButton.addEventListener("click", () => { location.href = "/"; });

  (async function start() {
    const requested = new URLSearchParams(location.search).get("conversation");
    if (requested) await reopen(requested);
    connect();
    loadConversations();
  })();
})();
