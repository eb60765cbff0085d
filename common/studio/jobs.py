"""Image jobs: a design's artwork and mockups, made after the request that asked for them.

Making a picture takes the image model tens of seconds, longer than a request may wait behind
Firebase Hosting (60 s). So `POST /api/generate-image`, and a chat turn that needs a new
picture, check the request, record a job and answer at once with its id; the job is published
on the queue (`common.providers.queue`, topic `IMAGE_JOBS`) and run by the `generate_image`
function, which stores its outcome in the job. The studio polls `GET /api/generate-image/<job_id>`.

A job is a document of the state backend (COLLECTION, kept JOB_TTL_SECONDS), owned by the
session that started it:

    queued -> running -> done (design_id, artwork_url, mockups, warnings, design)
                      -> failed (error: {code, message})

A delivery of a done or failed job does nothing. A delivery of a running job waits (503, the
queue delivers it again later) until the running one's lease ends: the instance running it
may have died, so a job whose lease ran out is taken over, at most MAX_ATTEMPTS times in all.
A job the image service was too busy for (429, 5xx) goes back to `queued` and the queue
delivers it again, with its backoff: that is the image model's retry (one attempt fits a
delivery).
Running a job twice makes one design (`designs.generate`).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from pydantic import Field, ValidationError

from common.core import errors
from common.core.caller import Session
from common.core.model import Model
from common.infra import log, state
from common.providers import queue
from common.studio import designs
from common.studio.design_models import DesignOut, JobOut, JobStarted
from common.studio.designs import Generation
from common.studio.limits import IMAGE_JOBS

COLLECTION = "image_jobs"
JOB_ID = re.compile(r"^job_[A-Za-z0-9_-]{20,40}$")
JOB_TTL_SECONDS = 24 * 3600  # a studio left open overnight finds its job gone: it asks again
MAX_JOB_BYTES = 16 * 1024  # a job's generation: a prompt and a brief, never an image
# Longer than generate_image's timeout (devtools/deploy_config.py): a job still running after
# this was left by an instance that died, or by a request cut at its timeout.
LEASE_SECONDS = 70
MAX_ATTEMPTS = 3


class JobBusy(errors.ServiceUnavailable):
    code = "job_running"


class _Message(Model):
    job_id: str = Field(pattern=JOB_ID.pattern)


def start(session: Session, generation: Generation) -> JobStarted:
    """Record a job for `generation` (queued) and publish it; its id, to poll."""
    job_id = "job_" + secrets.token_urlsafe(18)
    job = {
        "owner": session.subject,
        "status": "queued",
        "created_at": time.time(),
        "attempts": 0,
        "generation": generation.model_dump(mode="json"),
    }
    if len(json.dumps(job)) > MAX_JOB_BYTES:
        raise errors.PayloadTooLarge(f"a generation request is at most {MAX_JOB_BYTES} bytes")
    _put(job_id, job)
    try:
        queue.broker().publish(IMAGE_JOBS, {"job_id": job_id})
    except queue.QueueUnavailable as exc:
        _put(job_id, {**job, "status": "failed", "error": _error(exc)})
        raise
    return JobStarted(job_id=job_id)


def read(session: Session | None, job_id: str) -> JobOut:
    """The caller's job; 404 for anyone else's, an expired one, or a guess."""
    job = state.backend().get(COLLECTION, job_id) if JOB_ID.match(job_id) else None
    if session is None or job is None or job.get("owner") != session.subject:
        raise errors.NotFound("there is no such image job", code="job_not_found")
    design = DesignOut.model_validate(job["design"]) if job.get("design") else None
    return JobOut(
        job_id=job_id,
        status=job["status"],
        elapsed_seconds=round(max(0.0, job.get("ended_at", time.time()) - job["created_at"]), 1),
        design_id=design.design_id if design else None,
        artwork_url=design.artwork_url if design else None,
        mockups=design.mockups if design else None,
        warnings=design.warnings if design else None,
        design=design,
        error=job.get("error"),
    )


def run(message: dict[str, Any]) -> None:
    """The queue's handler: run the job the message names, once (see the module's doc)."""
    try:
        job_id = _Message.model_validate(message).job_id
    except ValidationError:
        log.error("image job message refused", received=str(message)[:200])
        return  # it can never succeed: acknowledged, not delivered again
    job = state.backend().get(COLLECTION, job_id)
    if job is None or job["status"] in ("done", "failed"):
        return
    now = time.time()
    if job["status"] == "running" and job.get("lease_until", 0) > now:
        raise JobBusy("this image job is running elsewhere", headers={"Retry-After": "30"})
    if job["attempts"] >= MAX_ATTEMPTS:
        _finish(job_id, job, error=_given_up())
        return
    job = {**job, "status": "running", "attempts": job["attempts"] + 1}
    _put(job_id, {**job, "lease_until": now + LEASE_SECONDS})
    log.info("image job running", job_id=job_id, attempt=job["attempts"])
    from common.providers import imagegen  # Pillow and the image provider: on the first job

    try:
        design = designs.generate(
            Session(subject=job["owner"]), Generation.model_validate(job["generation"])
        )
    except imagegen.ImageServiceBusy:
        # Vertex was busy (429), failed (5xx) or unreachable: the queue delivers the job
        # again, with its backoff. Too slow is final: another wait would be as long.
        _put(job_id, {**job, "status": "queued"})
        raise
    except errors.ApiError as exc:
        _finish(job_id, job, error=_error(exc))
        return
    except Exception:
        _put(job_id, {**job, "status": "queued"})  # let go of the lease: the retry may run
        raise
    _finish(job_id, job, design=design)


def _finish(
    job_id: str,
    job: dict[str, Any],
    *,
    design: DesignOut | None = None,
    error: dict[str, str] | None = None,
) -> None:
    stored = state.backend().get(COLLECTION, job_id)
    if stored is not None and stored["status"] == "done":
        return  # another delivery finished it meanwhile: its design stands
    outcome: dict[str, Any] = {"status": "failed", "error": error}
    if design is not None:
        outcome = {"status": "done", "design": design.model_dump(mode="json")}
    _put(job_id, {**job, "lease_until": 0, "ended_at": time.time(), **outcome})
    log.info("image job " + outcome["status"], job_id=job_id, error=error)


def _put(job_id: str, job: dict[str, Any]) -> None:
    state.backend().put(COLLECTION, job_id, job, ttl_seconds=JOB_TTL_SECONDS)


def _error(exc: errors.ApiError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def _given_up() -> dict[str, str]:
    """A job whose every attempt ended without an answer: cut at its timeout, or crashed."""
    return {
        "code": "image_job_gave_up",
        "message": "this design could not be made after several tries; try again",
    }
