// Calls to the dashboard server, and the little toast that reports their outcome.

export async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = {};
  try {
    json = await res.json();
  } catch {
    // not JSON
  }
  if (!res.ok && json.ok !== false) json = { ok: false, error: `HTTP ${res.status}`, ...json };
  return json;
}

export async function getJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

let toastTimer = null;
export function toast(text, bad = false) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.toggle('bad', bad);
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 3500);
}

/** Run a button's request with the button marked busy; report the result in the toast. */
export async function pressed(button, path, body) {
  button.classList.add('busy');
  button.disabled = true;
  try {
    const r = await post(path, body);
    toast(r.ok ? r.done ?? 'done' : `failed: ${r.error}`, !r.ok);
    return r;
  } catch (err) {
    toast(`failed: ${err.message}`, true);
    return { ok: false };
  } finally {
    button.classList.remove('busy');
    button.disabled = false;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
