"""Image jobs: how long `POST /api/generate-image` keeps a shopper waiting now that it answers
202 with a job, against how long the design takes to be ready (what the synchronous route
made them wait, in one request), beside a bare request to the same instance.

The `generate_image` function is served by functions-framework in local mode (the local queue's
worker runs in its process); the local image stand-in takes `AUREN_IMAGE_DELAY_S` seconds, for
each delay of DELAYS (0: the procedural artwork alone; 8 and 20: what the image model takes).
Part of `make bench` (`devtools.bench`); alone: `python -m devtools.bench_jobs`. Nothing
asserts on these numbers.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from typing import Any

DELAYS = (0.0, 8.0, 20.0)
RUNS = {0.0: 8, 8.0: 2, 20.0: 1}
POLL_SECONDS = 0.25  # within the polling rate limit (120 a minute) for a 25 s job
BARE_PROBE = "/api/designs/dsn_" + "b" * 24  # a 404 of the same function: routing, no work


def _request(
    port: int, method: str, path: str, client: str, cookie: str | None, body: Any = None
) -> tuple[int, dict[str, Any], str | None, float]:
    """One request as a shopper's browser sends it; (status, JSON, set cookie, seconds)."""
    from devtools.bench import HOST

    headers = {"X-Forwarded-For": client, "Accept": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        set_cookie = response.getheader("Set-Cookie")
    finally:
        conn.close()
    return response.status, json.loads(data or b"null"), set_cookie, elapsed


def _one(port: int, n: int, delay: float) -> dict[str, float]:
    client = f"198.18.{int(delay)}.{n + 1}"  # a client of its own: rate limits are per client
    body = {"prompt": f"a bold fox number {n}", "product_id": "hoodie", "color": "Black"}
    started = time.perf_counter()
    status, started_job, set_cookie, answered = _request(
        port, "POST", "/api/generate-image", client, None, body
    )
    if status != 202:
        raise RuntimeError(f"POST /api/generate-image answered {status}: {started_job}")
    cookie = (set_cookie or "").split(";", 1)[0]
    path = f"/api/generate-image/{started_job['job_id']}"
    while True:
        status, job, _, _ = _request(port, "GET", path, client, cookie)
        if status == 200 and job["status"] in ("done", "failed"):
            break
        time.sleep(POLL_SECONDS)
    if job["status"] != "done":
        raise RuntimeError(f"the job failed: {job['error']}")
    return {"answer_s": answered, "ready_s": time.perf_counter() - started}


def measure(env: dict[str, str]) -> dict[str, Any]:
    from devtools.bench import FUNCTIONS_DIR, Function, Probe, first_response, free_port, running

    function = Function(
        "generate_image",
        "generate_image",
        FUNCTIONS_DIR / "generate_image" / "main.py",
        Probe("GET", BARE_PROBE),
    )
    results = []
    for delay in DELAYS:
        with tempfile.TemporaryDirectory() as data_dir:
            server_env = {
                k: v for k, v in env.items() if k not in ("AUREN_ENV", "GOOGLE_CLOUD_PROJECT")
            }
            server_env.update(AUREN_DATA_DIR=data_dir, AUREN_IMAGE_DELAY_S=str(delay))
            port = free_port()
            with running(function, port, server_env) as process:
                first_response(process, port, function.probe)
                _one(port, 99, delay)  # warm: imports, templates, the pool
                bare = [_request(port, "GET", BARE_PROBE, "198.18.9.9", None)[3] for _ in range(20)]
                runs = [_one(port, n, delay) for n in range(RUNS[delay])]
        results.append(
            {
                "image_delay_s": delay,
                "runs": len(runs),
                "bare_request_ms": round(sorted(bare)[len(bare) // 2] * 1000, 1),
                "answer_202_ms": round(
                    sorted(r["answer_s"] for r in runs)[len(runs) // 2] * 1000, 1
                ),
                "design_ready_ms": round(
                    sorted(r["ready_s"] for r in runs)[len(runs) // 2] * 1000, 1
                ),
            }
        )
    return {"generate_image_jobs": results}


def print_result(result: dict[str, Any]) -> None:
    print("\nimage jobs (medians): POST answers 202 | design ready (= the old synchronous POST)")
    for row in result["generate_image_jobs"]:
        print(
            f"image stand-in {row['image_delay_s']:.0f} s | {row['runs']} runs"
            f" | bare request {row['bare_request_ms']:.1f} ms"
            f" | 202 in {row['answer_202_ms']:.1f} ms"
            f" | ready in {row['design_ready_ms']:.0f} ms"
        )


def main() -> dict[str, Any]:
    import os

    from devtools.bench import prepare_database

    url, _ = prepare_database()
    result = measure({**os.environ, "DATABASE_URL": url})
    print_result(result)
    return result


if __name__ == "__main__":
    main()
