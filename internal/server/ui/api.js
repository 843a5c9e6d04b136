// API access: the browser holds an HttpOnly session cookie (set by single
// sign-on or by token sign-in), which scripts cannot read; writes carry
// the session's CSRF token, which only this page learns from /api/v1/me.
export const session = { csrf: '' };

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.requestId = body && body.request_id;
  }
}

// costSource is the note of the last answer that carried the
// Crossbill-Cost-Source header ("athena; WHY"): a commitments answer of a
// tenant whose cost engine is Athena, which ran there. Pages that show it
// clear it first.
export const costSource = { note: '' };

// api calls the JSON API; body objects are sent as JSON, strings as is.
// It resolves to the parsed JSON (or text when asText), and rejects with
// ApiError. A 401 signs the user out.
export async function api(path, { method = 'GET', body, asText = false, contentType } = {}) {
  const headers = {};
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Blob) {
      payload = body;
      headers['Content-Type'] = contentType || 'application/octet-stream';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  const resp = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const src = resp.headers.get('Crossbill-Cost-Source');
  if (src) costSource.note = src;
  if (resp.status === 204) return null;
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { /* not JSON */ }
    if (resp.status === 401) window.dispatchEvent(new CustomEvent('crossbill:unauthorized'));
    throw new ApiError(resp.status, data);
  }
  return asText ? resp.text() : resp.json();
}

// download fetches a file with the session and saves it under name.
export async function download(path, name) {
  const text = await api(path, { asText: true });
  saveText(text, name, 'application/octet-stream');
}

export function saveText(text, name, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url; a.download = name;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
