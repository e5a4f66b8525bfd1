// Mounts rasa-webchat (embedded) on #chat and feeds the decision panel from the same socket.
// The conversation is the server's to choose (issue 12): the page asks the Rasa server for a signed session token
// (POST sessionUrl), keeps it for this tab (sessionStorage), and opens the socket with it; the server uses the
// token's conversation id whatever session id the widget sends.
// Files (a receipt, a photo of a defect): rasa-webchat has no upload, so a paperclip below the chat posts the file
// itself to uploadUrl with the same token (Authorization: Bearer; the server checks type, size and rate) and then
// sends /upload_file{"upload_id": ...} into the conversation through the widget; the action server accepts only an
// upload of this conversation.
(function () {
  "use strict";
  var config = window.SUPPORT_CHAT_CONFIG || {};
  var socketUrl = config.socketUrl || (window.location.protocol + "//" + window.location.hostname + ":5005");
  var sessionUrl = config.sessionUrl || (socketUrl + "/webhooks/socketio/session");
  var uploadUrl = config.uploadUrl || (socketUrl + "/webhooks/socketio/upload");
  var MAX_UPLOAD_BYTES = config.maxUploadBytes || 10 * 1024 * 1024;
  var ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,application/pdf";
  var TOKEN_KEY = "support_chat_token";
  var widget = { current: null };
  var chat = document.getElementById("chat");

  if (!window.WebChat || !window.WebChat.default) {
    chat.textContent = "The chat widget is missing: run `make web` (static/vendor/rasa-webchat.js).";
    return;
  }

  function storedToken() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(TOKEN_KEY) || "null");
      if (stored && stored.token && stored.expires_at * 1000 > Date.now() + 60000) { return stored.token; }
    } catch (e) { /* unreadable: ask for a new one */ }
    return null;
  }

  function sessionToken() {
    var token = storedToken();
    if (token) { return Promise.resolve(token); }
    return fetch(sessionUrl, { method: "POST", credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("session refused: " + response.status); }
        return response.json();
      })
      .then(function (issued) {
        window.sessionStorage.setItem(TOKEN_KEY, JSON.stringify(issued));
        return issued.token;
      });
  }

  function uploadBar(token) {
    var bar = document.createElement("div");
    bar.className = "upload-bar";
    var label = document.createElement("label");
    label.className = "upload-button";
    label.textContent = "\u{1F4CE} Attach a photo or PDF";
    var input = document.createElement("input");
    input.type = "file";
    input.accept = ACCEPT;
    input.id = "chat-upload";
    input.className = "upload-input";
    label.appendChild(input);
    var status = document.createElement("span");
    status.className = "upload-status";
    status.setAttribute("role", "status");
    bar.appendChild(label);
    bar.appendChild(status);
    chat.parentNode.insertBefore(bar, chat.nextSibling);

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.value = "";
      if (!file) { return; }
      if (file.size > MAX_UPLOAD_BYTES) {
        status.textContent = "That file is too large (10 MB at most).";
        return;
      }
      status.textContent = "Sending\u2026";
      fetch(uploadUrl, {
        method: "POST",
        credentials: "omit",
        cache: "no-store",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/octet-stream" },
        body: file
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (!answer.ok || !answer.body.upload_id) {
            status.textContent = (answer.body && answer.body.error) || "The file could not be sent.";
            return;
          }
          status.textContent = "";
          var shown = "\u{1F4CE} " + String(file.name || "file").slice(0, 60);
          widget.current.sendMessage("/upload_file" + JSON.stringify({ upload_id: answer.body.upload_id }), shown);
        })
        .catch(function () { status.textContent = "The file could not be sent. Please try again."; });
    });
  }

  function mount(token) {
    window.WebChat.default(
      {
        innerRef: widget,
        socketUrl: socketUrl + "?token=" + encodeURIComponent(token),
        socketPath: config.socketPath || "/socket.io/",
        initPayload: "/greet",
        title: "Anker support",
        subtitle: "Ask about an order, a return, a warranty claim or your credits",
        inputTextFieldHint: "Type a message...",
        embedded: true,
        showFullScreenButton: false,
        hideWhenNotConnected: false,
        withRules: false,
        params: { storage: "session" },
        customMessageDelay: function () { return 150; },
        onSocketEvent: {
          bot_uttered: function (message) { window.DecisionPanel.show(message); }
        }
      },
      chat
    );
  }

  sessionToken().then(function (token) { mount(token); uploadBar(token); }).catch(function () {
    chat.textContent = "The chat is not available right now. Please try again in a minute.";
  });
})();
