// The put/get/cas panel and the heavy-load toggle with its sparklines.
import { el, post, toast } from './api.js';
import { sparkline } from './sparkline.js';

export function setupKv(form, results) {
  const op = form.elements.namedItem('op');
  const sync = () => (form.dataset.op = op.value);
  op.addEventListener('change', sync);
  sync();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const body = { op: f.get('op'), key: f.get('key') };
    if (body.op === 'put' || body.op === 'cas') body.value = f.get('value');
    if (body.op === 'cas') body.expected = f.get('expected') === '' ? null : f.get('expected');
    if (f.get('node')) body.node = f.get('node');
    const started = performance.now();
    const r = await post('/api/kv', body).catch((err) => ({ ok: false, error: err.message }));
    const text = r.status === undefined ? `${body.op} ${body.key}: ${r.error}` : `${body.op} ${body.key} via ${r.node} → ${r.status} ${JSON.stringify(r.body)} (${(r.ms ?? performance.now() - started).toFixed(1)} ms)`;
    results.prepend(el('li', { class: r.ok ? 'ok' : 'bad', text }));
    while (results.children.length > 20) results.lastElementChild.remove();
  });
}

export function updateKvNodes(select, ids) {
  if (select.dataset.ids === ids.join()) return;
  select.dataset.ids = ids.join();
  select.replaceChildren(el('option', { value: '', text: 'any replica' }), ...ids.map((id) => el('option', { value: id, text: `via ${id}` })));
}

export function setupLoad(button) {
  button.addEventListener('click', async () => {
    const on = button.dataset.on !== 'true';
    const r = await post('/api/load', { on });
    if (!r.ok) toast(`load: ${r.error}`, true);
  });
}

export function renderLoad(load, parts) {
  parts.button.dataset.on = String(load.running);
  parts.button.textContent = `Heavy load: ${load.running ? 'on' : 'off'}`;
  const pts = load.points;
  const last = pts.at(-1);
  parts.ops.textContent = last ? String(last.okPerSec) : '–';
  parts.err.textContent = last ? String(last.errorsPerSec) : '–';
  parts.p50.textContent = last ? last.p50Ms.toFixed(1) : '–';
  parts.p99.textContent = last ? last.p99Ms.toFixed(1) : '–';
  sparkline(parts.opsCanvas, [
    { values: pts.map((p) => p.okPerSec), color: '#3fb27f' },
    { values: pts.map((p) => p.errorsPerSec), color: '#ef5b5b' },
  ]);
  sparkline(parts.latCanvas, [
    { values: pts.map((p) => p.p99Ms), color: '#c38bff' },
    { values: pts.map((p) => p.p50Ms), color: '#5aa9ff' },
  ]);
}
