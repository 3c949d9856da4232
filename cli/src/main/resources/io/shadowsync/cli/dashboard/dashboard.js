// shadowsync dashboard: live line charts of the metrics records (docs/metrics.md), one line per trainer,
// fed by the server-sent events of /events. Plain canvas, no libraries.
'use strict';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const MAX_POINTS = 4000; // per line; past it every second point is dropped

// [record type, field, title, unit, options]
const CHARTS = [
  ['train', 'examples_per_sec', 'throughput', 'examples/s', {zero: true}],
  ['train', 'loss', 'training loss', 'mean over each interval'],
  ['train', 'window_ne', 'training NE', 'sliding window'],
  ['train', 'window_loss', 'training loss', 'sliding window', {unless: 'window_ne'}],
  ['eval', 'ne', 'eval NE', 'replica of trainer 0'],
  ['eval', 'logloss', 'eval log loss', 'replica of trainer 0', {unless: 'ne'}],
  ['eval', 'auc', 'eval AUC', 'replica of trainer 0'],
  ['eval', 'accuracy', 'eval accuracy', 'replica of trainer 0'],
  ['eval', 'rmse', 'eval RMSE', 'replica of trainer 0'],
  ['eval', 'mae', 'eval MAE', 'replica of trainer 0'],
  ['train', 'rounds', 'sync rounds', 'taken part in', {zero: true}],
  ['train', 'round_ms', 'round time', 'ms, mean over each interval', {zero: true}],
  ['train', 'staleness_ms', 'staleness', 'ms since the last round', {zero: true}],
  ['train', 'staleness_rounds', 'staleness', 'rounds behind the furthest trainer', {zero: true}],
  ['train', 'bytes_sent', 'bytes sent', 'encoded, so far', {zero: true}],
];

class Chart {
  constructor(parent, type, field, title, unit, options) {
    Object.assign(this, {type, field, options: options || {}, series: new Map(), dirty: false});
    this.el = document.createElement('section');
    this.el.className = 'chart';
    this.el.hidden = true;
    this.el.dataset.field = field;
    const h = document.createElement('h2');
    h.textContent = title;
    const small = document.createElement('small');
    small.textContent = unit;
    h.appendChild(small);
    this.canvas = document.createElement('canvas');
    this.el.append(h, this.canvas);
    parent.appendChild(this.el);
  }

  add(name, x, y) {
    let s = this.series.get(name);
    if (!s) this.series.set(name, s = {x: [], y: []});
    s.x.push(x);
    s.y.push(y);
    if (s.x.length > MAX_POINTS) {
      s.x = s.x.filter((_, i) => i % 2 === 0);
      s.y = s.y.filter((_, i) => i % 2 === 0);
    }
    this.el.hidden = false;
    this.dirty = true;
  }

  clear() {
    this.series.clear();
    this.el.hidden = true;
    this.dirty = true;
  }

  draw() {
    this.dirty = false;
    if (this.el.hidden) return;
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of this.series.values()) {
      for (let i = 0; i < s.x.length; i++) {
        x0 = Math.min(x0, s.x[i]); x1 = Math.max(x1, s.x[i]);
        y0 = Math.min(y0, s.y[i]); y1 = Math.max(y1, s.y[i]);
      }
    }
    if (!(x1 >= x0)) return;
    x0 = Math.min(x0, 0); // every chart spans the run so far, so that they line up
    x1 = Math.max(x1, state.seconds);
    if (this.options.zero) { y0 = Math.min(y0, 0); y1 = Math.max(y1, 0); }
    if (y1 === y0) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
    else { const pad = (y1 - y0) * 0.05; y1 += pad; if (!(this.options.zero && y0 === 0)) y0 -= pad; }
    if (x1 === x0) x1 = x0 + 1;
    const L = 58, R = 10, T = 6, B = 20;
    const px = x => L + (x - x0) / (x1 - x0) * (w - L - R);
    const py = y => T + (1 - (y - y0) / (y1 - y0)) * (h - T - B);
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    g.strokeStyle = '#e6e9ed';
    g.fillStyle = '#6b7785';
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of ticks(y0, y1, 5)) {
      g.beginPath(); g.moveTo(L, py(t) + 0.5); g.lineTo(w - R, py(t) + 0.5); g.stroke();
      g.fillText(fmt(t), L - 6, py(t));
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of ticks(x0, x1, Math.max(2, Math.floor((w - L - R) / 70)))) {
      g.beginPath(); g.moveTo(px(t) + 0.5, T); g.lineTo(px(t) + 0.5, h - B); g.stroke();
      g.fillText(fmt(t) + ' s', px(t), h - B + 4);
    }
    g.lineWidth = 1.6;
    g.lineJoin = 'round';
    for (const [name, s] of this.series) {
      g.strokeStyle = color(name);
      g.beginPath();
      for (let i = 0; i < s.x.length; i++) (i ? g.lineTo : g.moveTo).call(g, px(s.x[i]), py(s.y[i]));
      g.stroke();
      if (s.x.length === 1) { g.fillStyle = color(name); g.fillRect(px(s.x[0]) - 2, py(s.y[0]) - 2, 4, 4); }
    }
  }
}

function ticks(lo, hi, n) {
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
  const step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag, out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + 'G';
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + 'M';
  if (a >= 1e4) return +(v / 1e3).toPrecision(3) + 'k';
  if (a === 0) return '0';
  if (a < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(4));
}

function color(trainer) {
  return COLORS[Math.abs(Number(trainer)) % COLORS.length];
}

const main = document.getElementById('charts');
const statusEl = document.getElementById('status');
const legendEl = document.getElementById('legend');
const charts = CHARTS.map(c => new Chart(main, ...c));
const byField = Object.fromEntries(charts.map(c => [c.type + '/' + c.field, c]));
const trainers = new Set();
const state = {records: 0, seconds: 0, ended: false, dropped: 0};

function onRecord(r) {
  state.records++;
  if (typeof r.seconds === 'number') state.seconds = Math.max(state.seconds, r.seconds);
  if (r.type === 'train' && !trainers.has(r.trainer)) {
    trainers.add(r.trainer);
    const span = document.createElement('span');
    span.style.setProperty('--c', color(r.trainer));
    span.textContent = 'trainer ' + r.trainer;
    legendEl.appendChild(span);
  }
  for (const c of charts) {
    if (c.type !== r.type || typeof r[c.field] !== 'number' || typeof r.seconds !== 'number') continue;
    if (c.options.unless && !byField[c.type + '/' + c.options.unless].el.hidden) continue;
    c.add(r.trainer, r.seconds, r[c.field]);
  }
}

function setStatus(cls, text) {
  statusEl.className = cls;
  statusEl.textContent = text;
}

function live() {
  const n = trainers.size;
  return state.records.toLocaleString('en') + ' records · ' + n + (n === 1 ? ' trainer' : ' trainers');
}

let pending = false;
function redraw() {
  if (pending) return;
  pending = true;
  setTimeout(() => {
    pending = false;
    for (const c of charts) if (c.dirty) c.draw();
    if (!state.ended && statusEl.className === 'live') setStatus('live', 'live · ' + live());
  }, 100);
}
window.addEventListener('resize', () => { charts.forEach(c => { c.dirty = true; }); redraw(); });

const events = new EventSource('events');
events.addEventListener('hello', () => { // (re)connected: the history follows, so start from nothing
  charts.forEach(c => c.clear());
  trainers.clear();
  legendEl.textContent = '';
  state.records = 0;
  state.seconds = 0;
  setStatus('live', 'live');
  redraw();
});
events.onmessage = e => { onRecord(JSON.parse(e.data)); redraw(); };
events.addEventListener('end', e => {
  state.ended = true;
  state.dropped = JSON.parse(e.data).dropped;
  events.close();
  setStatus('ended', 'job finished · ' + live() + (state.dropped ? ' · ' + state.dropped + ' missed' : ''));
  redraw();
});
events.onerror = () => { if (!state.ended) setStatus('lost', 'connection lost, retrying…'); };

// for tests and scripts: points per line of each chart shown, e.g. {"examples_per_sec": {"0": 12, "1": 12}}
window.shadowsyncDashboard = {
  state,
  counts() {
    const out = {};
    for (const c of charts) {
      if (c.el.hidden) continue;
      out[c.field] = {};
      for (const [name, s] of c.series) out[c.field][name] = s.x.length;
    }
    return out;
  },
};
