"""The chat page's web server: ``web/`` (rasa-webchat) and a generated ``/config.js``, from a thread of the
supervisor."""

from __future__ import annotations

import functools
import http.server
import json
import threading

from botstack.paths import ROOT, WEB_DIR, WEBCHAT_BUNDLE, StackError
from botstack.settings import Settings


class _WebHandler(http.server.SimpleHTTPRequestHandler):
    """The page (``/``), its files under ``/static/``, and ``/config.js`` that tells it where the Rasa server is.
    Nothing else of ``web/`` is served (no listings, no package files), GET and HEAD only."""

    config_js: bytes = b""
    connect_src: str = ""
    server_version = "support-web"
    sys_version = ""

    def _path(self) -> str:
        return self.path.split("?", 1)[0].split("#", 1)[0]

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            f"connect-src 'self' {self.connect_src}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        )
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self._path()
        if path == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.config_js)))
            self.end_headers()
            self.wfile.write(self.config_js)
            return
        if path in ("/", "/index.html") or (
            path.startswith("/static/") and ".." not in path and not path.endswith("/")
        ):
            super().do_GET()
            return
        self.send_error(404)

    def do_HEAD(self) -> None:  # noqa: N802
        path = self._path()
        if path in ("/", "/index.html") or (path.startswith("/static/") and ".." not in path):
            super().do_HEAD()
            return
        self.send_error(404)

    def list_directory(self, path):  # never list a folder
        self.send_error(404)
        return None

    def log_message(self, format: str, *args) -> None:  # quiet: the servers' logs matter more
        pass


class WebServer:
    """The chat page on ``settings.host:settings.web_port``, served from a thread of the supervisor."""

    def __init__(self, settings: Settings) -> None:
        if not WEBCHAT_BUNDLE.is_file():
            raise StackError(
                f"{WEBCHAT_BUNDLE.relative_to(ROOT)} is missing: run `make web` (npm install of rasa-webchat 1.0.1)"
            )
        config = {
            "socketUrl": settings.browser_rasa_url,
            "socketPath": "/socket.io/",
            "sessionUrl": f"{settings.browser_rasa_url}/webhooks/socketio/session",
        }
        rasa_origin = settings.browser_rasa_url.rstrip("/")
        ws_origin = "ws" + rasa_origin[4:] if rasa_origin.startswith("http") else rasa_origin
        handler = type(
            "WebHandler",
            (_WebHandler,),
            {
                "config_js": f"window.SUPPORT_CHAT_CONFIG = {json.dumps(config)};\n".encode(),
                "connect_src": f"{rasa_origin} {ws_origin}",
            },
        )
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        try:
            self.server = http.server.ThreadingHTTPServer(
                (settings.host, settings.web_port), functools.partial(handler, directory=str(WEB_DIR))
            )
        except OSError as error:
            raise StackError(
                f"the chat page cannot listen on {settings.host}:{settings.web_port} ({error}): set WEB_PORT"
            ) from error
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="web", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
