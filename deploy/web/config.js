// The chat page behind the front nginx (deploy/): Rasa's socket.io and its session endpoint are on the page's own
// origin, so the page needs no host name and the same image serves any domain.
window.SUPPORT_CHAT_CONFIG = {
  socketUrl: window.location.origin,
  socketPath: "/socket.io/",
  sessionUrl: window.location.origin + "/webhooks/socketio/session"
};
