#!/usr/bin/env python3
"""Quire's HTTP API from Python's standard library alone.

Submits a document, waits for its ingestion, asks a question, runs a batch and exports its report.
Needs a running gateway and workers (`quire dev --gateway`):

    QUIRE_URL=http://127.0.0.1:8080 QUIRE_API_KEY=$(cat .quire/dev-api-key) python3 examples/python_quickstart.py

The gateway's OpenAPI document (GET /docs/json) describes every route and body used here.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ.get("QUIRE_URL", "").rstrip("/")
KEY = os.environ.get("QUIRE_API_KEY", "")
DOC_ID = os.environ.get("DOC_ID", "python-example-handbook")


class QuireError(Exception):
    """A request the gateway refused: its status and the error body's message."""


def call(method: str, path: str, body: dict | None = None, raw: bool = False):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("authorization", f"Bearer {KEY}")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("message", detail)
        except ValueError:
            pass
        retry = error.headers.get("retry-after")
        hint = f" (retry after {retry} s)" if retry else ""
        raise QuireError(f"{method} {path}: {error.code} {detail}{hint}") from None
    return payload.decode("utf-8") if raw else json.loads(payload)


def wait_for(path: str, what: str, timeout_s: float = 60.0) -> dict:
    """Polls a job or batch until it ends; returns its last status."""
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        status = call("GET", path)
        if status["state"] == "completed":
            return status
        if status["state"] == "failed":
            raise QuireError(f"{what} failed: {status.get('failedReason')}")
        if time.monotonic() > deadline:
            raise QuireError(f"{what} did not finish within {timeout_s:.0f} s (state {status['state']})")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def main() -> int:
    if not BASE or not KEY:
        print("set QUIRE_URL (the gateway) and QUIRE_API_KEY (a tenant API key)", file=sys.stderr)
        return 2

    # 1. A Markdown document as text (files: multipart POST /v1/documents/upload).
    text = (
        "# Harbour handbook\n\n## Lamp\n\nThe harbour lamp flashes green every four seconds.\n\n"
        "## Ferry\n\nThe ferry to the island leaves at seven in the morning.\n"
    )
    accepted = call(
        "POST",
        "/v1/documents",
        {"documentId": DOC_ID, "source": {"kind": "text", "mediaType": "text/markdown", "text": text}},
    )
    print(f"ingest job {accepted['jobId']}")
    done = wait_for(accepted["statusUrl"], "ingestion")
    print(f"ingested {DOC_ID}: {json.dumps(done['result'])}")

    # 2. A question, waiting for the answer; a 202 means it was not ready in time: poll its job.
    answer = call(
        "POST",
        "/v1/queries",
        {
            "question": "How often does the harbour lamp flash?",
            "filter": {"documentIds": [DOC_ID]},
            "wait": True,
            "waitMs": 20000,
        },
    )
    if answer.get("state") != "completed":
        answer = wait_for(answer["statusUrl"], "question")
    result = answer["result"]
    print(f"answer: {result['answer']}")
    for citation in result.get("citations", []):
        print(f"  [{citation['number']}] {citation['documentId']} ({citation['sourceName']})")

    # 3. A batch of questions, followed to its end, and its report as CSV.
    batch = call(
        "POST",
        "/v1/batches",
        {
            "name": "python example",
            "filter": {"documentIds": [DOC_ID]},
            "questions": [
                {"id": "lamp", "question": "What colour is the harbour lamp?"},
                {"id": "ferry", "question": "When does the ferry leave?"},
            ],
        },
    )
    status = wait_for(f"/v1/batches/{batch['batchId']}", "batch")
    print(f"batch {status['batchId']}: {status['answered']} of {status['total']} answered")
    print(call("GET", status["exportUrls"]["csv"], raw=True), end="")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except QuireError as error:
        print(f"quire: {error}", file=sys.stderr)
        sys.exit(1)
