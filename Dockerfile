# The chat server on the official Deno image, pinned: no "latest".
#
# Stage one fetches every dependency into the Deno cache; the image is stage
# two, which takes that cache and the app's files, so the container starts
# and runs without reaching any registry.
FROM denoland/deno:2.9.6 AS deps

WORKDIR /app

# .dockerignore lets through the app's files and, if present,
# certs/build-ca.pem: a CA to trust while fetching, for builds behind a
# TLS-inspecting proxy. It stays in this stage; the image never holds it.
COPY --chown=deno:deno . ./
USER deno

# Every npm package of deno.lock (--frozen: exactly those), then the module
# graph of each entry point. lib/redis/redis_chat.ts is one of them:
# main.ts imports it dynamically, and `deno cache main.ts` alone does not
# fetch the npm packages behind a dynamic import.
RUN if [ -f certs/build-ca.pem ]; then export DENO_CERT="$PWD/certs/build-ca.pem"; fi \
  && deno install --frozen \
  && deno cache --frozen main.ts healthcheck.ts lib/redis/redis_chat.ts

FROM denoland/deno:2.9.6

WORKDIR /app

# The image's non-root user owns the app and the Deno cache (DENO_DIR=/deno-dir).
COPY --chown=deno:deno deno.json deno.lock main.ts healthcheck.ts ./
COPY --chown=deno:deno lib/ ./lib/
COPY --chown=deno:deno vendor/ ./vendor/
COPY --from=deps --chown=deno:deno /deno-dir/ /deno-dir/
# The history's directory (DATA_DIR=/data in compose.yaml), the deno user's: a named volume
# mounted there starts as a copy of it, owned by deno, not root (else the server exits 2).
RUN mkdir /data && chown deno:deno /data && chmod 700 /data
USER deno

EXPOSE 4000

# No curl in this image: PING the chat port and expect PONG.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "healthcheck.ts"]

# The image's ENTRYPOINT is ["/tini", "--", "docker-entrypoint.sh"]: tini is PID 1 and
# forwards SIGTERM to deno, its child. The permission flags are those of `deno task start`,
# but for writing: only /data here, where the task cannot know the directory in advance;
# tests/deploy_test.ts keeps them so.
CMD ["run", "--allow-net", "--allow-read", "--allow-write=/data", "--allow-env=HOST,PORT,IDLE_TIMEOUT,MAX_LINE_BYTES,MAX_CLIENTS,MAX_QUEUE_BYTES,MAX_CLIENTS_PER_IP,IP_LIMIT_EXEMPT,TRUSTED_PROXIES,RATE,BURST,TLS_CERT,TLS_KEY,TLS_PORT,METRICS_PORT,WEB_PORT,WEB_ORIGINS,IRC_PORT,IRC_TLS_PORT,IRC_CHANNEL,SERVER_NAME,LOG_FORMAT,LOG_LEVEL,REDIS_URL,DATA_DIR,HISTORY_LINES,HISTORY_DAYS,REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS", "--v8-flags=--max-semi-space-size=1", "main.ts"]
