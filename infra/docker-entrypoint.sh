#!/bin/sh
# Entry point of the Quire image: one image, several commands. tini (PID 1) runs this script, and
# `exec` replaces the shell with Node so that signals from tini reach Node directly.
set -eu

apps=/app/node_modules/@quire

usage() {
  cat <<'USAGE'
usage: <command> [arguments]

commands:
  ingest-worker   consume the `ingest` queue (ingest and delete jobs)
  query-worker    consume the `query` and `batch` queues
  gateway         HTTP API (PORT, default 8080)
  cli             the `quire` command line, e.g. `cli status` or `cli ask "…"`
  help            this text

Configuration comes from the environment; see infra/README.md.
USAGE
}

command="${1:-help}"
[ "$#" -gt 0 ] && shift

case "$command" in
  ingest-worker) exec node "$apps/ingest-worker/dist/main.js" "$@" ;;
  query-worker) exec node "$apps/query-worker/dist/main.js" "$@" ;;
  gateway) exec node "$apps/gateway/dist/main.js" "$@" ;;
  cli) exec node "$apps/cli/dist/main.js" "$@" ;;
  help | --help | -h) usage ;;
  *)
    echo "quire image: unknown command '$command'" >&2
    usage >&2
    exit 64
    ;;
esac
