# The chat page (web/): rasa-webchat 1.0.1 from npm (web/package-lock.json) and the page's own files, served by nginx
# with the headers botstack's page server sends. The page talks to Rasa on its own origin, through the front nginx
# (deploy/web/config.js). Build from the repository root:
#     docker build -f deploy/docker/web.Dockerfile -t support/web:1.0.0 .
FROM node:20.18.1-bookworm-slim AS widget
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

FROM nginx:1.28.0-alpine
COPY deploy/web/nginx.conf /etc/nginx/nginx.conf
COPY web/index.html /usr/share/nginx/html/index.html
COPY web/static/page.css web/static/chat.js web/static/decision-panel.js /usr/share/nginx/html/static/
COPY --from=widget /web/node_modules/rasa-webchat/lib/index.js /usr/share/nginx/html/static/vendor/rasa-webchat.js
COPY deploy/web/config.js /usr/share/nginx/html/config.js
EXPOSE 8080
