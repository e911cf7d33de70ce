// Recording testimony through the app (issue 14), on the real release app
// under Xvfb. Run by scripts/test-ui.sh (see e2e.test.mjs for the
// environment it sets).
//
// A virtual microphone (scripts/virtual-mic.sh: a PulseAudio null sink whose
// monitor is the default source; the app's cpal reaches it through ALSA's
// `pulse` plugin from libasound2-plugins) hears espeak-ng speech. Through
// the window: unlock, an interview with its consent level set, the `pulse`
// input picked, a recording with one pause, stopped and saved; screenshots
// of the panel while it records, in English, Azerbaijani and Russian.
// Then, through the CLI: the attachment exists, exports to one .ogg that
// `opusdec` decodes, of the recorded length (within 5%), not silent.
// While recording, the vault directory and the app's $TMPDIR are watched
// (inotifywait names every file created; a poller reads every file every
// 30 ms, as tests/tests/recording.rs does): only age files (and the
// SQLCipher database, the unlock counter) in the vault, nothing in $TMPDIR,
// and no Ogg/Opus header anywhere.
//
// Needs: pulseaudio, pulseaudio-utils, libasound2-plugins, espeak-ng, sox,
// opus-tools, inotify-tools (scripts/dev installs them).
import { test, after } from 'node:test';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, sleep } from './webdriver.mjs';
import { screenshotDisplay } from './xshot.mjs';

const run = promisify(execFile);
const APP = process.env.YADDASH_APP_BIN;
const CLI = process.env.YADDASH_CLI_BIN;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/ui-screenshots';
const MIC = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/virtual-mic.sh');
const PASSPHRASE = 'copper kettle morning 5823 yagis';
const DATE = '2025-03-08';
const PERSON = 'Hüseynova Aygün';
const SPEECH =
  'My husband was taken from the market on the eighth of March. ' +
  'They said he would be back by the evening. Nobody has seen him since.';

let s;
let work;
let micDir;
let inotify;
let player;
let watcher;

after(async () => {
  await watcher?.finish();
  await s?.quit();
  player?.kill();
  inotify?.kill();
  if (micDir) await run(MIC, ['stop', micDir]).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

async function fill(css, text) {
  const el = await s.waitFor(css);
  await el.clear();
  await el.type(text);
  return el;
}

function choose(css, value) {
  return s.execute(
    `const sel = document.querySelector(arguments[0]); sel.value = arguments[1]; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
    [css, value],
  );
}

/** Every file under `dir` (recursively), or none if it does not exist. */
function filesUnder(dir) {
  let names;
  try {
    names = readdirSync(dir, { recursive: true });
  } catch {
    return [];
  }
  return names.map((n) => join(dir, n)).filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Watches `dirs` while recording: inotifywait names every file created or
 * renamed into them, and a poller reads every file every 30 ms. `finish()`
 * answers { names, bad, reads }: the inotify lines, the files that were not
 * age ciphertext (or held an Ogg/Opus header), how many files were read.
 */
function watch(dirs) {
  const names = new Set();
  inotify = spawn('inotifywait', ['-m', '-r', '-q', '-e', 'create,moved_to,close_write', '--format', '%e %w%f', ...dirs], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let pending = '';
  inotify.stdout.on('data', (d) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const l of lines) names.add(l);
  });
  const bad = [];
  let reads = 0;
  let stop = false;
  const AGE = Buffer.from('age-encryption.org/v1\n');
  const poller = (async () => {
    while (!stop) {
      for (const d of dirs) {
        for (const f of filesUnder(d)) {
          let bytes;
          try {
            bytes = readFileSync(f);
          } catch {
            continue;
          }
          reads += 1;
          const name = f.split('/').pop();
          // SQLCipher databases and the unlock-attempts counter
          // (docs/coercion.md) are the vault's non-age files; neither holds audio.
          const db = name.startsWith('vault.db') || name === 'attempts';
          const plain = bytes.includes('OpusHead') || bytes.includes('OpusTags');
          const age = bytes.length === 0 || bytes.subarray(0, AGE.length).equals(AGE);
          if (plain || (!db && !age)) bad.push(`${f} (${bytes.length} bytes, ogg/opus magic: ${plain})`);
        }
      }
      await sleep(30);
    }
  })();
  return {
    async finish() {
      stop = true;
      await poller;
      await sleep(300);
      inotify.kill();
      inotify = undefined;
      return { names: [...names], bad, reads };
    },
  };
}

/** Clicks the n-th button of the side navigation (language independent). */
async function nav(n) {
  await s.execute(`document.querySelectorAll('nav button.navbtn')[arguments[0]].click()`, [n]);
}

/** From anywhere: the person list, the person, then the interview of DATE. */
async function openInterview() {
  await nav(0);
  await s.clickText('[data-testid=record-row]', PERSON).catch(async (e) => {
    await screenshotDisplay(join(SHOTS, 'recording-failed.png'));
    throw new Error(`${e.message}; on screen: ${await s.execute('return document.body.innerText')}`);
  });
  await s.waitFor('[data-testid=person-page]');
  await s.clickText('button.link', DATE);
  await s.waitFor('[data-testid=record-panel]');
}

/** Settings is the last entry of the navigation; its language switch. */
async function switchLanguage(lang) {
  await s.execute(`[...document.querySelectorAll('nav button.navbtn')].at(-1).click()`);
  await s.waitFor('#settings-title');
  await choose('.lang select', lang);
  await s.waitUntil(`return document.documentElement.lang === arguments[0]`, [lang], { what: `the language ${lang}` });
}

async function shotPanel(name) {
  await s.execute(`document.querySelector('[data-testid=record-panel]').scrollIntoView({ block: 'start' })`);
  await sleep(300);
  await screenshotDisplay(join(SHOTS, `recording-${name}.png`));
}

test('recording through the app: encrypted while recorded, exported .ogg plays', async (t) => {
  assert.ok(APP, 'YADDASH_APP_BIN must name the app binary');
  assert.ok(CLI, 'YADDASH_CLI_BIN must name the CLI binary');
  await mkdir(SHOTS, { recursive: true });
  work = await mkdtemp(join(tmpdir(), 'yaddash-recording-'));
  const vault = join(work, 'vault');
  const appTmp = join(work, 'tmp');
  micDir = join(work, 'mic');
  await mkdir(appTmp, { mode: 0o700 });
  const pf = join(work, 'pass');
  await writeFile(pf, PASSPHRASE, { mode: 0o600 });
  const cli = (...args) => run(CLI, ['--vault', vault, '--passphrase-file', pf, ...args], { timeout: 120_000 });
  await run(CLI, ['init', '--vault', vault, '--role', 'field', '--passphrase-file', pf], { timeout: 120_000 });

  // The microphone: its own PulseAudio server, reached through the app's
  // XDG_RUNTIME_DIR (set by the wrapper below).
  await run(MIC, ['start', micDir]);
  const raw = join(work, 'speech-raw.wav');
  const wav = join(work, 'speech.wav');
  await run('espeak-ng', ['-v', 'en', '-s', '150', '-w', raw, SPEECH]);
  await run('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', wav, 'pad', '0.5', '0']);
  const speechSeconds = Number((await run('soxi', ['-D', wav])).stdout.trim());
  assert.ok(speechSeconds > 5 && speechSeconds < 10, `speech of ${speechSeconds} s`);

  const app = join(work, 'app.sh');
  await writeFile(
    app,
    `#!/bin/sh\nYADDASH_VAULT='${vault}' TMPDIR='${appTmp}' XDG_RUNTIME_DIR='${micDir}'\nexport YADDASH_VAULT TMPDIR XDG_RUNTIME_DIR\nunset PULSE_SERVER\nexec '${APP}' "$@"\n`,
  );
  await chmod(app, 0o755);

  let attachmentCount;
  let recorded;
  await t.test('an interview with its consent level; the virtual input is listed', async () => {
    s = await Session.start(URL, app);
    await s.waitFor('[data-testid=unlock-form]');
    // The language a test before may have left chosen: English first.
    await choose('.lang select', 'en');
    await fill('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await (await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 })).click();
    await fill('[data-testid=person-name]', PERSON);
    await (await s.find('[data-testid=save]')).click();
    await (await s.waitFor('[data-testid=new-interview]')).click();
    await s.waitFor('[data-testid=interview-form]');
    await fill('#iv-relation', 'wife');
    await fill('#iv-interviewer', 'R. M.');
    await fill('#iv-date', DATE);
    await s.clickText('label', 'Publish anonymously');
    await fill('[data-testid=narrative]', 'Recorded in the app; see the attachment.');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=record-panel]');
    const inputs = await s.waitUntil(
      `const o = [...document.querySelectorAll('[data-testid=record-input] option')].map(o => o.value); return o.length ? o : null`,
      [],
      { what: 'the list of inputs' },
    );
    assert.ok(inputs.includes('pulse'), `the PulseAudio input is listed: ${inputs}`);
    await choose('[data-testid=record-input]', 'pulse');
    await setConsentSeconds('2');
    attachmentCount = await s.execute(`return document.querySelectorAll('[data-testid=attachment]').length`);
  });

  async function setConsentSeconds(v) {
    await s.execute(
      `const el = document.querySelector('[data-testid=record-consent]'); el.value = arguments[0]; el.dispatchEvent(new Event('input', { bubbles: true }));`,
      [v],
    );
  }

  await t.test('record with one pause, screenshots in en, az, ru while recording, stop', async () => {
    watcher = watch([vault, appTmp]);
    const t0 = Date.now();
    await (await s.find('[data-testid=record-start]')).click();
    await s.waitFor('[data-testid=record-state]', { timeoutMs: 15_000 });
    // The click only starts the call: the recording runs once the state shows.
    const t1 = Date.now();
    player = spawn(MIC, ['play', micDir, wav], { stdio: 'ignore' });
    await sleep(1500);
    await s.waitUntil(`return Number(document.querySelector('[data-testid=record-level]')?.value) > 0.01`, [], {
      what: 'the level meter to move',
      timeoutMs: 10_000,
    });
    await shotPanel('en');

    const p0 = Date.now();
    await (await s.find('[data-testid=record-pause]')).click();
    await s.waitFor('[data-testid=record-resume]');
    const p1 = Date.now();
    const frozen = await (await s.find('[data-testid=record-elapsed]')).text();
    await shotPanel('paused-en');
    await sleep(1000);
    assert.equal(await (await s.find('[data-testid=record-elapsed]')).text(), frozen, 'the clock stops while paused');
    const r0 = Date.now();
    await (await s.find('[data-testid=record-resume]')).click();
    await s.waitFor('[data-testid=record-pause]');
    const r1 = Date.now();

    // The panel in the other languages, while the recording goes on (the
    // language switch is in Settings: away from the interview and back).
    try {
      for (const lang of ['az', 'ru']) {
        await switchLanguage(lang);
        await openInterview();
        await s.waitFor('[data-testid=record-state]');
        await shotPanel(lang);
      }
    } finally {
      await switchLanguage('en');
      await openInterview();
    }
    await s.waitFor('[data-testid=record-stop]');
    // Let the rest of the speech in (8 s or more of recording).
    const spoken = Date.now() - t1 - (r0 - p1);
    if (spoken < 8000) await sleep(8000 - spoken);
    const st0 = Date.now();
    await (await s.find('[data-testid=record-stop]')).click();
    const notice = await s.waitFor('[data-testid=record-notice]', { timeoutMs: 30_000 });
    const st1 = Date.now();
    const { names, bad, reads } = await watcher.finish();
    watcher = undefined;
    // The recorded time as the test saw it: start to stop minus the pause,
    // each bounded by when its click was sent and when the window showed it
    // done (stopping includes joining the segments: a loose upper bound).
    recorded = {
      min: (st0 - t1 - (r1 - p0)) / 1000,
      max: (st1 - t0 - (r0 - p1)) / 1000,
    };
    console.log(
      `recorded between ${recorded.min.toFixed(3)} and ${recorded.max.toFixed(3)} s (start ${t1 - t0} ms, pause ${p1 - p0} ms, resume ${r1 - r0} ms, stop ${st1 - st0} ms to show); ${await notice.text()}`,
    );
    await s.execute(`document.querySelector('[data-testid=record-panel]').scrollIntoView({ block: 'start' })`);
    await screenshotDisplay(join(SHOTS, 'recording-saved.png'));
    await s.waitUntil(`return document.querySelectorAll('[data-testid=attachment]').length === arguments[0] + 1`, [attachmentCount], {
      what: 'the recording in the attachment list',
    });

    console.log(`inotify saw ${names.length} events; the poller read ${reads} files`);
    for (const n of names) {
      const [event, path] = n.includes(' ') ? [n.slice(0, n.indexOf(' ')), n.slice(n.indexOf(' ') + 1)] : ['', n];
      assert.ok(!path.startsWith(appTmp), `a file in $TMPDIR: ${n}`);
      if (event.includes('ISDIR')) continue;
      const file = path.split('/').pop();
      const ok =
        (path.includes('/recordings/') &&
          (file === 'head' || file.startsWith('seg-') || file.startsWith('chain-') || file.length === 32 || file.endsWith('.partial'))) ||
        path.includes('/attachments/') ||
        file.startsWith('vault.db') ||
        file === 'attempts' ||
        file.length === 32;
      assert.ok(ok, `unexpected file created while recording: ${n}`);
    }
    assert.ok(names.some((n) => n.includes('/recordings/') && n.includes('seg-')), `inotify saw no segment: ${names.join('\n')}`);
    assert.deepEqual(bad, [], 'files that were not age ciphertext');
    assert.ok(reads > 10, `the poller read too little (${reads})`);
  });

  await t.test('the CLI finds the attachment; its .ogg decodes with opusdec, of the recorded length', async () => {
    await s.quit();
    s = undefined;
    const interviews = JSON.parse((await cli('--json', 'list', 'interviews')).stdout);
    const list = Array.isArray(interviews) ? interviews : (interviews.records ?? interviews.items);
    assert.equal(list.length, 1, JSON.stringify(interviews));
    const shown = JSON.parse((await cli('--json', 'show', list[0].id)).stdout);
    const atts = shown.attachments ?? [];
    assert.equal(atts.length, 1, JSON.stringify(shown));
    const att = JSON.parse((await cli('--json', 'show', atts[0].id)).stdout);
    console.log(`attachment: ${JSON.stringify(att.recording)}`);
    assert.equal(att.recording.input, 'pulse');
    assert.equal(att.recording.consent_seconds, 2);
    const ogg = join(work, 'out.ogg');
    await cli('attachment', 'export', atts[0].id, '--out', ogg);
    const decoded = join(work, 'out.wav');
    await run('opusdec', ['--force-wav', '--quiet', ogg, decoded]);
    const got = Number((await run('soxi', ['-D', decoded])).stdout.trim());
    const mid = (recorded.min + recorded.max) / 2;
    console.log(`decoded ${got.toFixed(3)} s; recorded ${mid.toFixed(3)} s (±${((recorded.max - recorded.min) / 2).toFixed(3)}); metadata ${att.recording.duration_ms} ms`);
    // What the app says it recorded (its clock counts the samples captured)
    // is what decodes, within 5%.
    assert.ok(Math.abs(got * 1000 - att.recording.duration_ms) / att.recording.duration_ms < 0.05, 'the duration in the metadata');
    // Against the wall clock the capture comes out shorter: about 1.2 s
    // with the CLI (10.0 s from "recording from" to Ctrl-C gave 8.8 s), 1.3
    // to 1.8 s here (one pause) on a loaded 2-core machine: the ALSA pulse
    // plugin's start (or the buffer dropped at stop). docs/recording.md
    // ("Tests") records it as open; this bound keeps it from growing.
    const lost = recorded.min - got;
    console.log(`shorter than the wall clock by ${lost.toFixed(3)} to ${(recorded.max - got).toFixed(3)} s`);
    assert.ok(got <= recorded.max * 1.05, `decoded ${got} s, longer than the ${recorded.max} s recorded`);
    assert.ok(lost < 2.5, `decoded ${got} s, recorded ${recorded.min}–${recorded.max} s: ${lost.toFixed(3)} s or more lost`);
    // Speech, not silence: sox's RMS amplitude of the decoded audio.
    const stat = (await run('sox', [decoded, '-n', 'stat'])).stderr;
    const rms = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(stat)?.[1]);
    console.log(`RMS amplitude of the recording: ${rms}`);
    assert.ok(rms > 0.01, `the recording is silent (RMS ${rms})`);
    const check = (await cli('vault', 'check')).stdout;
    assert.match(check, /vault is clean/);
  });
});
