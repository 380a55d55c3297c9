// The dashboard page: one EventSource for everything the server pushes (hello, snapshot, events), two buttons that
// post commands. The server owns the run; the page only draws what it is told, so a reload shows the same run.
'use strict';

(() => {
  const MAX_ACTIVITY = 60;
  const SMOOTHING_POINTS = 5;
  const numbers = new Intl.NumberFormat('en-US');
  const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const $ = (id) => document.getElementById(id);

  const view = {
    run: null,
    snapshot: null,
    points: [],
    activity: [],
    eventTotals: [],
    seq: 0,
    connected: false,
    busy: false,
  };

  // ---- live channel -------------------------------------------------------------------------------------------

  function connect() {
    // EventSource reconnects by itself; each new connection starts with a hello that redraws everything.
    const source = new EventSource('/api/events');
    source.addEventListener('hello', (e) => {
      const m = JSON.parse(e.data);
      view.points = m.throughput;
      view.activity = m.recentActivity.slice().reverse().slice(0, MAX_ACTIVITY);
      setConnected(true);
      apply(m.run, m.snapshot);
      renderActivity();
    });
    source.addEventListener('snapshot', (e) => {
      const m = JSON.parse(e.data);
      if (view.run && m.run.runId !== view.run.runId) {
        view.points = [];
      }
      if (m.point) {
        view.points.push(m.point);
      }
      apply(m.run, m.snapshot);
    });
    source.addEventListener('events', (e) => {
      const m = JSON.parse(e.data);
      for (const a of m.events) {
        view.activity.unshift(a);
      }
      view.activity.length = Math.min(view.activity.length, MAX_ACTIVITY);
      const now = performance.now();
      view.eventTotals.push({ at: now, total: m.total });
      view.eventTotals = view.eventTotals.filter((t) => now - t.at <= 2000);
      renderActivity();
    });
    source.addEventListener('error', () => setConnected(false));
  }

  function setConnected(connected) {
    view.connected = connected;
    const el = $('connection');
    el.dataset.connected = String(connected);
    el.textContent = connected ? 'live' : 'reconnecting…';
    renderButtons();
  }

  // ---- commands -----------------------------------------------------------------------------------------------

  async function command(path) {
    view.busy = true;
    renderButtons();
    try {
      const response = await fetch(path, { method: 'POST', headers: { 'X-Dashboard': '1' } });
      // The new state arrives on the live channel; the answer only matters when the command was refused.
      showMessage(response.ok ? '' : `The server refused: ${response.status} ${response.statusText}`);
    } catch (error) {
      showMessage(`Could not reach the server: ${error.message}`);
    } finally {
      view.busy = false;
      renderButtons();
    }
  }

  function showMessage(text) {
    const el = $('message');
    el.textContent = text;
    el.hidden = !text;
  }

  // ---- drawing ------------------------------------------------------------------------------------------------

  function apply(run, snapshot) {
    view.run = run;
    view.snapshot = snapshot;
    view.seq += 1;
    renderRun();
    renderTotals();
    renderStages();
    renderWorkers();
    renderErrors();
    drawChart();
    const updated = $('last-update');
    updated.textContent = new Date(snapshot.timestamp).toLocaleTimeString();
    updated.dataset.seq = String(view.seq);
  }

  function renderRun() {
    const run = view.run;
    const state = $('run-state');
    state.textContent = run.state;
    state.dataset.state = run.state;
    $('run-label').textContent = run.runId === 0 ? 'no run yet' : `run #${run.runId}`;
    if (run.error) {
      showMessage(`The run failed: ${run.error}`);
    }
    renderButtons();
  }

  function renderButtons() {
    const state = view.run ? view.run.state : '';
    const active = state === 'running' || state === 'stopping';
    $('start').disabled = !view.connected || view.busy || !view.run || active;
    $('stop').disabled = !view.connected || view.busy || state !== 'running';
  }

  function renderTotals() {
    const t = view.snapshot.totals;
    const total = view.run.totalItems;
    const finished = t.processed + t.failed + t.cancelled;
    $('done-count').textContent = numbers.format(t.processed);
    $('total-count').textContent = numbers.format(total);
    $('failed-count').textContent = numbers.format(t.failed);
    $('cancelled-count').textContent = numbers.format(t.cancelled);
    $('inflight-count').textContent = numbers.format(t.inFlight);
    const percent = total > 0 ? Math.min(100, (100 * finished) / total) : 0;
    $('progress-bar').style.width = `${percent}%`;
    $('progress-text').textContent = `${oneDecimal.format(percent)}% finished`;
    $('elapsed').textContent = formatElapsed();
    const last = view.points[view.points.length - 1];
    const active = view.run.state === 'running' || view.run.state === 'stopping';
    $('rate').textContent = active && last ? oneDecimal.format(smoothed(view.points.length - 1)) : '–';
  }

  function formatElapsed() {
    const run = view.run;
    if (!run.startedAt) {
      return '–';
    }
    const end = run.endedAt ? new Date(run.endedAt) : new Date(view.snapshot.timestamp);
    const seconds = Math.max(0, Math.round((end - new Date(run.startedAt)) / 1000));
    const mm = String(Math.floor(seconds / 60)).padStart(2, '0');
    const ss = String(seconds % 60).padStart(2, '0');
    return `${mm}:${ss}`;
  }

  function renderStages() {
    const body = $('stages').tBodies[0];
    const rows = view.snapshot.stages.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.stage = s.name;
      tr.append(
        cell(s.name),
        cell(`${s.busyWorkers}/${s.workers}`, 'num', 'stage-busy'),
        cell(numbers.format(s.queued), 'num', 'stage-queued'),
        cell(numbers.format(s.running), 'num', 'stage-running'),
        cell(numbers.format(s.done), 'num', 'stage-done'),
        cell(numbers.format(s.failed), 'num', 'stage-failed'));
      return tr;
    });
    body.replaceChildren(...rows);
  }

  function renderWorkers() {
    const container = $('workers');
    const workers = view.snapshot.workers;
    const busy = workers.filter((w) => w.busy).length;
    $('workers-summary').textContent = `${busy} busy of ${workers.length}`;

    // One group per stage, one tile per worker; tiles are reused so the grid does not flicker.
    for (const stage of view.snapshot.stages) {
      let group = container.querySelector(`.stage-group[data-stage="${CSS.escape(stage.name)}"]`);
      if (!group) {
        group = element('div', 'stage-group');
        group.dataset.stage = stage.name;
        group.append(element('h3', '', stage.name), element('div', 'tiles'));
        container.append(group);
      }
      group.querySelector('h3').textContent = `${stage.name} · ${stage.busyWorkers}/${stage.workers} busy`;
    }

    for (const w of workers) {
      let tile = container.querySelector(`.worker[data-worker="${CSS.escape(w.name)}"]`);
      if (!tile) {
        tile = element('div', 'worker');
        tile.dataset.worker = w.name;
        tile.dataset.testid = 'worker';
        const head = element('div', 'w-head');
        head.append(element('span', 'w-name', w.name), element('span', 'w-time'));
        tile.append(head, element('div', 'w-item'), element('div', 'w-task'), element('div', 'w-stats'));
        container.querySelector(`.stage-group[data-stage="${CSS.escape(w.stage)}"] .tiles`).append(tile);
      }
      tile.className = `worker ${w.busy ? 'busy' : 'idle'}`;
      tile.querySelector('.w-time').textContent = w.busy && w.busyMs != null ? formatDuration(w.busyMs) : '';
      tile.querySelector('.w-item').textContent = w.busy ? `item ${w.item}` : 'idle';
      tile.querySelector('.w-task').textContent = w.busy ? (w.task || '') : '\u00a0';
      const average = w.processed + w.failed > 0 ? ` · avg ${formatDuration(w.averageMs)}` : '';
      tile.querySelector('.w-stats').textContent = `${numbers.format(w.processed)} done · ${numbers.format(w.failed)} failed${average}`;
    }
  }

  function renderErrors() {
    const s = view.snapshot;
    const rows = s.recentErrors.map((e) => {
      const tr = document.createElement('tr');
      tr.dataset.item = e.item;
      const message = cell(e.message);
      message.title = e.message;
      tr.append(cell(e.item), cell(e.stage), cell(e.type), cell(String(e.attempts), 'num'), message);
      return tr;
    });
    $('errors').tBodies[0].replaceChildren(...rows);
    $('no-errors').hidden = s.totalErrors > 0;
    const byType = Object.entries(s.errorsByType)
      .sort((a, b) => b[1] - a[1])
      .map(([type, count]) => `${type} ×${count}`)
      .join(', ');
    $('errors-summary').textContent = s.totalErrors > 0
      ? `(${rows.length < s.totalErrors ? `last ${rows.length} of ` : ''}${numbers.format(s.totalErrors)}) ${byType}`
      : '';
  }

  function renderActivity() {
    const items = view.activity.map((a) => {
      const li = element('li', `ev-${a.event}`);
      const time = new Date(a.time).toISOString().substring(11, 23);
      const what = a.kind === 'task' ? `${a.task} ${eventName(a.event)}` : eventName(a.event);
      const parts = [time, `item ${a.item}`, a.stage, what];
      if (a.worker) parts.push(`on ${a.worker}`);
      if (a.attempt != null && a.attempt > 1) parts.push(`attempt ${a.attempt}`);
      if (a.durationMs != null) parts.push(formatDuration(a.durationMs));
      if (a.error) parts.push(`– ${a.error}`);
      li.textContent = parts.join('  ');
      return li;
    });
    $('activity').replaceChildren(...items);
    const total = view.eventTotals.reduce((sum, t) => sum + t.total, 0);
    $('events-rate').textContent = view.eventTotals.length ? `(~${numbers.format(Math.round(total / 2))} events/s, newest shown)` : '';
  }

  // ---- throughput chart (plain canvas) ------------------------------------------------------------------------

  function smoothed(index) {
    const from = Math.max(0, index - SMOOTHING_POINTS + 1);
    let sum = 0;
    for (let i = from; i <= index; i++) sum += view.points[i].rate;
    return sum / (index - from + 1);
  }

  function drawChart() {
    const canvas = $('throughput-chart');
    canvas.dataset.points = String(view.points.length);
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(document.documentElement);
    const muted = style.getPropertyValue('--muted').trim();
    const line = style.getPropertyValue('--line').trim();
    const accent = style.getPropertyValue('--accent').trim();
    const pad = { left: 44, right: 10, top: 10, bottom: 24 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const points = view.points;
    const maxX = Math.max(10, points.length ? points[points.length - 1].seconds : 0);
    const maxY = niceCeiling(Math.max(10, ...points.map((p) => p.rate)) * 1.1);
    const x = (s) => pad.left + (s / maxX) * plotW;
    const y = (r) => pad.top + plotH - (r / maxY) * plotH;

    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = line;
    ctx.fillStyle = muted;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let i = 0; i <= 4; i++) {
      const value = (maxY * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(value)) + 0.5);
      ctx.lineTo(width - pad.right, Math.round(y(value)) + 0.5);
      ctx.stroke();
      ctx.fillText(numbers.format(Math.round(value)), pad.left - 6, y(value));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = niceCeiling(maxX / 6);
    for (let s = 0; s <= maxX; s += step) {
      ctx.fillText(`${s}s`, x(s), height - pad.bottom + 6);
    }

    if (points.length === 0) {
      ctx.fillText('Press Start to see the throughput.', pad.left + plotW / 2, pad.top + plotH / 2);
      return;
    }

    // Raw per-second rate as a light area, a moving average on top as a line.
    ctx.beginPath();
    ctx.moveTo(x(0), y(0));
    points.forEach((p) => ctx.lineTo(x(p.seconds), y(p.rate)));
    ctx.lineTo(x(points[points.length - 1].seconds), y(0));
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = accent;
    ctx.fill();
    ctx.globalAlpha = 1;

    ctx.beginPath();
    ctx.lineWidth = 2;
    ctx.strokeStyle = accent;
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.seconds), y(smoothed(i))) : ctx.lineTo(x(p.seconds), y(smoothed(i)))));
    ctx.stroke();
  }

  function niceCeiling(value) {
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const m of [1, 2, 2.5, 5, 10]) {
      if (m * magnitude >= value) return m * magnitude;
    }
    return 10 * magnitude;
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function cell(text, className, testId) {
    const td = element('td', className, text);
    if (testId) td.dataset.testid = testId;
    return td;
  }

  function eventName(name) {
    // "InProgress" -> "in progress"
    return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  }

  function formatDuration(ms) {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${oneDecimal.format(ms / 1000)} s`;
    return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  }

  $('start').addEventListener('click', () => command('/api/run/start'));
  $('stop').addEventListener('click', () => command('/api/run/stop'));
  new ResizeObserver(() => view.snapshot && drawChart()).observe($('throughput-chart').parentElement);
  connect();
})();
