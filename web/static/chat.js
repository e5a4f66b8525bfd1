// Mounts rasa-webchat (embedded) on #chat and feeds the decision panel from the same socket.
(function () {
  "use strict";
  var config = window.SUPPORT_CHAT_CONFIG || {};
  var socketUrl = config.socketUrl || (window.location.protocol + "//" + window.location.hostname + ":5005");
  if (!window.WebChat || !window.WebChat.default) {
    document.getElementById("chat").textContent =
      "The chat widget is missing: run `make web` (static/vendor/rasa-webchat.js).";
    return;
  }
  window.WebChat.default(
    {
      socketUrl: socketUrl,
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
    document.getElementById("chat")
  );
})();
