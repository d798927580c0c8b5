#!/bin/sh
# Binds this container's agent on its first start (the binding persists in $FEDML_HOME/agent),
# then runs the daemon in the foreground. Extra arguments go to `fedml-agent bind`
# (e.g. --name gpu-1 --provider mine --price 0.9 --shared).
set -eu
home="${FEDML_HOME:-/var/lib/fedml}/agent"
agent="node ${FEDML_AGENT_BIN:-/app/packages/agent/bin/fedml-agent.js}"
if [ ! -f "$home/agent.json" ]; then
  : "${FEDML_SERVER_URL:?set FEDML_SERVER_URL to the control plane's URL}"
  key="${FEDML_API_KEY:-}"
  if [ -z "$key" ] && [ -n "${FEDML_API_KEY_FILE:-}" ]; then
    # The server may still be writing its admin key on a first start together with it.
    tries=0
    while [ ! -s "$FEDML_API_KEY_FILE" ] && [ "$tries" -lt 60 ]; do tries=$((tries + 1)); sleep 1; done
    key="$(cat "$FEDML_API_KEY_FILE")"
  fi
  : "${key:?set FEDML_API_KEY or FEDML_API_KEY_FILE}"
  $agent bind --home "$home" --server "$FEDML_SERVER_URL" --api-key "$key" "$@"
fi
exec $agent run --home "$home"
