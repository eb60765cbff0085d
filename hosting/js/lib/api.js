// The one way the storefront talks to /api: JSON in, JSON out, same-origin cookies,
// and every failure turned into an ApiError carrying the server's {"error": {code, message}}.

// The slowest function the storefront calls without an entry below (checkout, 50 s) and 5 s
// for the network: the browser never gives up on a request the server still answers, and
// never waits past Hosting's 60 s (tests/test_time_budgets.py).
const DEFAULT_TIMEOUT_MS = 55000;
// The routes of these functions: their own timeout (devtools/deploy_config.py) and 5 s.
export const FUNCTION_TIMEOUT_MS = { chat: 50000, generate_image: 55000 };

export class ApiError extends Error {
  constructor({ status, code, message, retryAfter = null, requestId = null, field = null }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
    this.field = field;
  }

  get isRateLimited() {
    return this.status === 429;
  }

  get isServerError() {
    return this.status >= 500;
  }

  get isNetworkError() {
    return this.status === 0;
  }
}

// Retry-After is either delta-seconds or an HTTP date; either way callers get whole seconds.
function parseRetryAfter(value) {
  if (!value) return null;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value)
    : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFrom(response, body) {
  const error = body && typeof body.error === 'object' && body.error ? body.error : {};
  return new ApiError({
    status: response.status,
    code: error.code || (response.status >= 500 ? 'internal' : 'http_' + response.status),
    message: error.message || response.statusText || 'Request failed',
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
    requestId: error.request_id || null,
    field: error.field || null,
  });
}

/**
 * Call an Auren API route. `body` may be a plain object (sent as JSON) or FormData.
 * Resolves with the parsed JSON (null for an empty body); rejects with ApiError.
 */
export async function api(path, { method = 'GET', body, signal, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
  const forwardAbort = () => controller.abort(signal.reason);
  signal?.addEventListener('abort', forwardAbort, { once: true });

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal: controller.signal,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    const timedOut = controller.signal.reason?.name === 'TimeoutError';
    throw new ApiError({
      status: 0,
      code: timedOut ? 'timeout' : 'network_error',
      message: timedOut ? 'The request took too long' : 'Could not reach the server',
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forwardAbort);
  }

  const data = await readJson(response);
  if (!response.ok) throw errorFrom(response, data);
  if (data === undefined) {
    throw new ApiError({ status: response.status, code: 'bad_response', message: 'The server sent an unreadable response' });
  }
  return data;
}

export const getJSON = (path, options) => api(path, options);
export const postJSON = (path, body, options) => api(path, { ...options, method: 'POST', body });

/** What to tell a shopper about a failed call, in one place for every page. */
export function describeError(error) {
  if (!(error instanceof ApiError)) {
    return { title: 'Something went wrong', detail: 'Please try again.' };
  }
  if (error.isNetworkError) {
    return error.code === 'timeout'
      ? { title: 'This is taking too long', detail: 'Check your connection and try again.' }
      : { title: 'You seem to be offline', detail: 'We could not reach Auren. Check your connection and try again.' };
  }
  if (error.isRateLimited) {
    const wait = error.retryAfter ? `in ${error.retryAfter} s` : 'in a moment';
    return { title: 'Too many requests', detail: `Please try again ${wait}.` };
  }
  if (error.isServerError) {
    const reference = error.requestId ? ` Reference: ${error.requestId}.` : '';
    return {
      title: 'Something went wrong on our side',
      detail: `This one is on us: our servers had a problem. Please try again in a moment.${reference}`,
    };
  }
  return { title: 'That did not work', detail: error.message };
}
