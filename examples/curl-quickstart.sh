#!/usr/bin/env bash
# Quire's HTTP API with curl alone: submit a document, wait for it, ask a question, run a batch and
# export its report. Needs a running gateway and workers (`quire dev --gateway`):
#
#   QUIRE_URL=http://127.0.0.1:8080 QUIRE_API_KEY=$(cat .quire/dev-api-key) examples/curl-quickstart.sh
#
# JSON fields are picked out with sed to keep to curl and POSIX tools; with jq at hand, use it.
set -euo pipefail

: "${QUIRE_URL:?set QUIRE_URL to the gateway, e.g. http://127.0.0.1:8080}"
: "${QUIRE_API_KEY:?set QUIRE_API_KEY to a tenant API key}"
GW="${QUIRE_URL%/}"
AUTH="authorization: Bearer ${QUIRE_API_KEY}"
DOC_ID="${DOC_ID:-curl-example-handbook}"

# The first string value of a top-level JSON field (enough for ids and states).
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

# 1. Submit a Markdown document as text (files go to POST /v1/documents/upload as multipart).
accepted=$(curl -sS --fail-with-body -X POST "$GW/v1/documents" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"documentId\":\"$DOC_ID\",\"source\":{\"kind\":\"text\",\"mediaType\":\"text/markdown\",\"text\":\"# Harbour handbook\\n\\n## Lamp\\n\\nThe harbour lamp flashes green every four seconds.\\n\\n## Ferry\\n\\nThe ferry to the island leaves at seven in the morning.\\n\"}}")
job=$(printf '%s' "$accepted" | field jobId)
echo "ingest job $job"

# 2. Poll the job until it ends (or stream GET /v1/jobs/ingest/$job/events instead).
for _ in $(seq 1 300); do
  state=$(curl -sS --fail-with-body "$GW/v1/jobs/ingest/$job" -H "$AUTH" | field state)
  case "$state" in
    completed) break ;;
    failed) echo "ingestion failed" >&2; exit 1 ;;
  esac
  sleep 0.2
done
[ "$state" = completed ] || { echo "ingestion did not finish in time (state $state)" >&2; exit 1; }
echo "ingested $DOC_ID"

# 3. Ask, waiting for the answer (200 with the answer; 202 with a job to poll if not ready in time).
answer=$(curl -sS --fail-with-body -X POST "$GW/v1/queries" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"question\":\"How often does the harbour lamp flash?\",\"filter\":{\"documentIds\":[\"$DOC_ID\"]},\"wait\":true,\"waitMs\":20000}")
echo "answer: $(printf '%s' "$answer" | field answer)"

# 4. A batch of questions, polled to its end, and its report as CSV.
batch=$(curl -sS --fail-with-body -X POST "$GW/v1/batches" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"name\":\"curl example\",\"filter\":{\"documentIds\":[\"$DOC_ID\"]},\"questions\":[{\"id\":\"lamp\",\"question\":\"What colour is the harbour lamp?\"},{\"id\":\"ferry\",\"question\":\"When does the ferry leave?\"}]}" |
  field batchId)
echo "batch $batch"
for _ in $(seq 1 300); do
  state=$(curl -sS --fail-with-body "$GW/v1/batches/$batch" -H "$AUTH" | field state)
  case "$state" in
    completed) break ;;
    failed) echo "batch failed" >&2; exit 1 ;;
  esac
  sleep 0.2
done
[ "$state" = completed ] || { echo "batch did not finish in time (state $state)" >&2; exit 1; }
curl -sS --fail-with-body "$GW/v1/batches/$batch/export?format=csv" -H "$AUTH"
