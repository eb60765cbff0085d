// Image jobs: POST /api/generate-image (and a chat edit that draws a new picture) answers at
// once with a job id while the server makes the design; this polls
// GET /api/generate-image/<job_id>, with backoff, until the job is done or failed.

import { ApiError, getJSON } from './api.js';

const FIRST_POLL_MS = 1000;
const MAX_POLL_MS = 4000; // about 20 polls for a 60 s job: well within the 120 a minute allowed
const POLL_TIMEOUT_MS = 10000; // a poll is one read of the job; a slow one is simply asked again
// The queue runs a job at most 3 times, each within generate_image's 50 s: past this, it is lost.
const GIVE_UP_MS = 180000;

/** A job that ended without a design: `code` and `message` are the server's. */
export class JobFailed extends Error {
  constructor({ code, message }) {
    super(message);
    this.name = 'JobFailed';
    this.code = code;
  }
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * Poll the job until it is done (resolves with its design) or failed (rejects with JobFailed).
 * `onProgress(job)` sees each answer (`status`, `elapsed_seconds`). A network error, a 5xx or
 * a 429 is polled again, later; a 404 (the job expired, or is another session's) rejects.
 */
export async function waitForJob(jobId, { onProgress, signal } = {}) {
  const started = Date.now();
  let wait = FIRST_POLL_MS;
  for (;;) {
    let job = null;
    try {
      job = await getJSON(`/api/generate-image/${encodeURIComponent(jobId)}`, { timeoutMs: POLL_TIMEOUT_MS, signal });
    } catch (error) {
      const passing = error instanceof ApiError && (error.isNetworkError || error.isServerError || error.isRateLimited);
      if (!passing) throw error;
      if (error.retryAfter) wait = Math.max(wait, error.retryAfter * 1000);
    }
    if (job) {
      onProgress?.(job);
      if (job.status === 'done') return job.design;
      if (job.status === 'failed') throw new JobFailed(job.error ?? { code: 'failed', message: 'The design could not be made.' });
    }
    if (Date.now() - started > GIVE_UP_MS) {
      throw new JobFailed({ code: 'job_timeout', message: 'Making your design is taking far longer than it should.' });
    }
    await pause(wait, signal);
    wait = Math.min(MAX_POLL_MS, Math.round(wait * 1.5));
  }
}
