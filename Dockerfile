# The chat server on the official Deno image, pinned: no "latest".
FROM denoland/deno:2.9.6

WORKDIR /app

# The image's non-root user owns the app and the Deno cache (DENO_DIR=/deno-dir).
COPY --chown=deno:deno deno.json deno.lock main.ts healthcheck.ts ./
COPY --chown=deno:deno lib/ ./lib/
USER deno

# Resolve and cache every dependency now, so the container starts without fetching anything.
RUN deno cache main.ts healthcheck.ts

EXPOSE 4000

# No curl in this image: PING the chat port and expect PONG.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "healthcheck.ts"]

# The image's ENTRYPOINT is ["/tini", "--", "docker-entrypoint.sh"]: tini is PID 1 and
# forwards SIGTERM to deno, its child. The permission flags are exactly those of
# `deno task start`; tests/deploy_test.ts keeps the two the same.
CMD ["run", "--allow-net", "--allow-read", "--allow-env=HOST,PORT,IDLE_TIMEOUT,MAX_LINE_BYTES,MAX_CLIENTS,MAX_QUEUE_BYTES,MAX_CLIENTS_PER_IP,IP_LIMIT_EXEMPT,TRUSTED_PROXIES,RATE,BURST,TLS_CERT,TLS_KEY,TLS_PORT,METRICS_PORT,LOG_FORMAT,LOG_LEVEL,REDIS_URL,REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS", "--v8-flags=--max-semi-space-size=1", "main.ts"]
