// Small line charts on a canvas, sharp on high-density screens.

export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  return { ctx, w: canvas.clientWidth, h: canvas.clientHeight };
}

/**
 * series: [{values: number[], color}]; all share one y scale from 0, labelled with its top and
 * `unit`. A `threshold` is drawn dashed once the scale reaches it.
 */
export function sparkline(canvas, series, slots = 60, { threshold = null, unit = '' } = {}) {
  const { ctx, w, h } = fitCanvas(canvas);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  if (threshold !== null && threshold <= max) {
    const y = h - 3 - (threshold / max) * (h - 8);
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = '#ef5b5b';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const s of series) {
    const vals = s.values.slice(-slots);
    if (vals.length === 0) continue;
    ctx.beginPath();
    vals.forEach((v, i) => {
      const x = w - (vals.length - 1 - i) * (w / (slots - 1));
      const y = h - 3 - (v / max) * (h - 8);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  ctx.fillStyle = '#8b94a9';
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillText(`${Math.round(max)}${unit}`, 3, 11);
}
