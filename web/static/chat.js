// Mounts rasa-webchat (embedded) on #chat and feeds the decision panel from the same socket.
// The conversation is the server's to choose (issue 12): the page asks the Rasa server for a signed session token
// (POST sessionUrl), keeps it for this tab (sessionStorage), and opens the socket with it; the server uses the
// token's conversation id whatever session id the widget sends.
(function () {
  "use strict";
  var config = window.SUPPORT_CHAT_CONFIG || {};
  var socketUrl = config.socketUrl || (window.location.protocol + "//" + window.location.hostname + ":5005");
  var sessionUrl = config.sessionUrl || (socketUrl + "/webhooks/socketio/session");
  var TOKEN_KEY = "support_chat_token";
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

  function mount(token) {
    window.WebChat.default(
      {
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

  sessionToken().then(mount).catch(function () {
    chat.textContent = "The chat is not available right now. Please try again in a minute.";
  });
})();
