// Desktop app performance (issue 6), run by scripts/bench-ui.sh against the
// RELEASE build under Xvfb through tauri-driver and WebKitWebDriver. Not a
// test: it measures and prints a JSON summary. Environment:
//   YADDASH_APP_BIN   the release app binary
//   WEBDRIVER_URL     tauri-driver's address
//   BENCH_RUNS        cold-start / unlock runs (default 7)
//   BENCH_QUERIES     names typed letter by letter, separated by "|"
// The app inherits YADDASH_VAULT (the prepared 10,000-person vault, passphrase
// "benchmark passphrase") from tauri-driver's environment.
import { Session, sleep } from '../tests/ui/webdriver.mjs';

const APP = process.env.YADDASH_APP_BIN;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const QUERIES = (process.env.BENCH_QUERIES ?? 'mammadov ilqar|Гусейнов Эмин|huseynov leyla|aliyev rauf|cafarov tofiq|qasimov arif|yaqubov anar|kerimov sahin').split('|');
const PASSPHRASE = 'benchmark passphrase';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.round((s.length - 1) * p)];
};
const stats = (xs) => xs.length === 0 ? { n: 0 } : ({
  n: xs.length,
  p50: +pct(xs, 0.5).toFixed(1),
  p95: +pct(xs, 0.95).toFixed(1),
  max: +Math.max(...xs).toFixed(1),
});

/** Polls (every 10 ms) until `css` matches; returns Date.now() at that moment. */
async function pollFor(s, css, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await s.execute(`return !!document.querySelector(arguments[0])`, [css]);
    if (found) return Date.now();
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${css}`);
}

function executeAsync(s, script, args = []) {
  return s.cmd('POST', '/execute/async', { script, args });
}

/** Unlock with an in-page clock: submit event -> first list row painted. */
async function unlockTimed(s) {
  await s.execute(`
    window.__unlock = {};
    document.addEventListener('submit', () => { window.__unlock.t0 = performance.now(); }, { capture: true, once: true });
    const mo = new MutationObserver(() => {
      if (document.querySelector('[data-testid=record-row]')) {
        mo.disconnect();
        const t = performance.now();
        requestAnimationFrame(() => { window.__unlock.t1 = performance.now(); window.__unlock.dom = t; });
      }
    });
    mo.observe(document.body, { childList: true, subtree: true });
  `);
  const input = await s.waitFor('#secret');
  await input.type(PASSPHRASE);
  const wall0 = Date.now();
  await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
  const r = await s.waitUntil(`return window.__unlock.t1 ? window.__unlock : null`, [], { timeoutMs: 120_000 });
  return { inPage: r.t1 - r.t0, wall: Date.now() - wall0 };
}

async function startupRuns() {
  const cold = [];
  const unlock = [];
  const unlockWall = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = Date.now();
    const s = await Session.start(URL, APP);
    const sessionAt = Date.now();
    const formAt = await pollFor(s, '[data-testid=unlock-form]');
    const u = await unlockTimed(s);
    cold.push(formAt - t0);
    unlock.push(u.inPage);
    unlockWall.push(u.wall);
    console.error(
      `run ${i + 1}: session ${sessionAt - t0} ms, unlock form ${formAt - t0} ms, unlock->first row ${u.inPage.toFixed(0)} ms (wall ${u.wall} ms)`,
    );
    await s.quit();
    await sleep(1000);
  }
  return { coldStartToUnlockForm: stats(cold), unlockToFirstRow: stats(unlock), unlockToFirstRowWall: stats(unlockWall) };
}

/** Types every query letter by letter; keystroke -> search answered -> frame painted. */
async function searchRuns(s) {
  await s.execute(`
    window.__b = { inputs: [], calls: [] };
    document.addEventListener('input', (e) => {
      if (e.target && e.target.id === 'search') window.__b.inputs.push({ v: e.target.value.trim(), t: performance.now() });
    }, true);
    // Tauri's IPC (custom protocol) posts each command with fetch to
    // ipc://localhost/<command>; __TAURI_INTERNALS__.invoke itself is read-only.
    const origFetch = window.fetch;
    window.fetch = function (input, init) {
      const url = String(input && input.url ? input.url : input);
      const p = origFetch.call(this, input, init);
      if (url.split('?')[0].endsWith('/search')) {
        let q = '';
        try { q = JSON.parse(init.body).req.query; } catch { q = '?'; }
        const c = { q, t0: performance.now() };
        window.__b.calls.push(c);
        p.then((res) => res.clone().arrayBuffer()).then(() => {
          c.t1 = performance.now();
          // The answer reaches the component, Svelte updates the DOM in a
          // microtask; the next frame shows it.
          setTimeout(() => requestAnimationFrame(() => {
            c.t2 = performance.now();
            c.rows = document.querySelectorAll('[data-testid=record-row]').length;
          }), 0);
        }, () => { c.t1 = c.t2 = performance.now(); c.failed = true; });
      }
      return p;
    };
  `);
  const box = await s.waitFor('[data-testid=search]');
  const keyToPaint = [];
  const invokeToPaint = [];
  const invokeOnly = [];
  let missing = 0;
  for (const q of QUERIES) {
    await box.clear();
    await sleep(400);
    for (const ch of q) {
      const before = await s.execute(`return window.__b.inputs.length`);
      await box.type(ch);
      // Wait for the answer to this keystroke (search + paint; no debounce).
      let r = null;
      const deadline = Date.now() + 5_000;
      while (!r && Date.now() < deadline) {
        await sleep(40);
        r = await s.execute(
          `const inp = window.__b.inputs[arguments[0]]; if (!inp) return null;
           if (!inp.v) return { skip: true };
           const c = window.__b.calls.find((c) => c.t0 >= inp.t && c.q === inp.v && c.t2);
           return c ? { key: inp.t, ...c } : null;`,
          [before],
        );
      }
      if (!r) {
        if (!missing) console.error('no answer seen:', JSON.stringify(await s.execute(`return { inputs: window.__b.inputs.slice(-3), calls: window.__b.calls.slice(-3), fetches: String(window.fetch).slice(0, 40) }`)));
        missing++;
        continue;
      }
      if (r.skip) continue;
      keyToPaint.push(r.t2 - r.key);
      invokeToPaint.push(r.t2 - r.t0);
      invokeOnly.push(r.t1 - r.t0);
      await sleep(60);
    }
  }
  return {
    keystrokes: keyToPaint.length,
    missing,
    keystrokeToPaint: stats(keyToPaint),
    invokeToPaint: stats(invokeToPaint),
    invokeRoundTrip: stats(invokeOnly),
  };
}

/** Scrolls the persons list top to bottom, `step` px per frame, recording frame times. */
async function scrollRun(s, step) {
  await s.cmd('POST', '/timeouts', { script: 300_000 });
  return executeAsync(
    s,
    `const done = arguments[arguments.length - 1];
     const vp = document.querySelector('[role=listbox]');
     vp.scrollTop = 0;
     const step = arguments[0];
     const frames = [];
     let maxRows = 0, last = null;
     function tick(t) {
       if (last !== null) frames.push(t - last);
       last = t;
       maxRows = Math.max(maxRows, vp.querySelectorAll('[data-testid=record-row]').length);
       if (vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 1) {
         const s = [...frames].sort((a, b) => a - b);
         const p = (q) => s[Math.round((s.length - 1) * q)];
         done({ step, frames: frames.length, seconds: frames.reduce((a, b) => a + b, 0) / 1000,
                p50: p(0.5), p95: p(0.95), p99: p(0.99), max: s[s.length - 1],
                over50: frames.filter((f) => f > 50).length, over33: frames.filter((f) => f > 33.4).length,
                maxRowsInDom: maxRows, scrollHeight: vp.scrollHeight,
                lastRow: vp.querySelectorAll('[data-testid=record-row]')[vp.querySelectorAll('[data-testid=record-row]').length - 1]?.textContent });
         return;
       }
       vp.scrollTop += step;
       requestAnimationFrame(tick);
     }
     requestAnimationFrame(tick);`,
    [step],
  );
}

const out = {};
if (!process.env.BENCH_SKIP_STARTUP) out.startup = await startupRuns();
const s = await Session.start(URL, APP);
await pollFor(s, '[data-testid=unlock-form]');
await unlockTimed(s);
out.totalText = await s.execute(`return document.querySelector('.count')?.textContent.trim()`);
out.search = await searchRuns(s);
// WebDriver's clear fires no input event: empty the box as a user would.
await s.execute(`const e = document.querySelector('[data-testid=search]'); e.value = ''; e.dispatchEvent(new Event('input', { bubbles: true }));`);
await s.waitUntil(`return document.querySelector('[role=listbox]')?.scrollHeight >= 48 * 10000`, [], { timeoutMs: 10_000, what: 'the full list' });
out.listText = await s.execute(`return document.querySelector('.count')?.textContent.trim()`);
await sleep(500);
out.scroll = [];
for (const step of [480, 240]) {
  const r = await scrollRun(s, step);
  console.error(`scroll ${step}px/frame: ${JSON.stringify(r)}`);
  out.scroll.push(r);
}
await s.quit();
console.log(JSON.stringify(out, null, 2));
