// A minimal W3C WebDriver client over fetch: enough to drive the app through
// tauri-driver + WebKitWebDriver without any npm dependency.
import { writeFile } from 'node:fs/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export const Keys = {
  CONTROL: '\uE009',
  SHIFT: '\uE008',
  ENTER: '\uE007',
  BACKSPACE: '\uE003',
};

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application, { timeoutMs = 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    // tauri-driver needs a moment to listen; retry the first request.
    while (Date.now() < deadline) {
      try {
        const value = await request(base, 'POST', '/session', {
          capabilities: { alwaysMatch: { 'tauri:options': { application }, browserName: 'wry' } },
        });
        return new Session(base, value.sessionId);
      } catch (e) {
        lastError = e;
        await sleep(500);
      }
    }
    throw new WebDriverError(`could not start a WebDriver session: ${lastError}`);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async quit() {
    try {
      await this.cmd('DELETE', '');
    } catch {
      /* already gone */
    }
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, v[ELEMENT]);
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Waits until `css` matches an element (displayed), and returns it. */
  async waitFor(css, { timeoutMs = 15_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        const els = await this.findAll(css);
        for (const el of els) if (await el.displayed()) return el;
      } catch (e) {
        last = e;
      }
      await sleep(150);
    }
    throw new WebDriverError(`timed out waiting for ${css}${last ? `: ${last}` : ''}`);
  }

  /** Waits until the script returns a truthy value, and returns it. */
  async waitUntil(script, args = [], { timeoutMs = 15_000, what = script } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await this.execute(script, args);
      if (v) return v;
      await sleep(150);
    }
    throw new WebDriverError(`timed out waiting for: ${what}`);
  }

  /** Clicks the first button (or element matching `css`) whose text contains `text`. */
  async clickText(css, text) {
    const el = await this.waitUntilElement(
      `return [...document.querySelectorAll(arguments[0])].find(e => e.textContent.includes(arguments[1]) && e.offsetParent !== null) || null`,
      [css, text],
      `${css} with text ${text}`,
    );
    await el.click();
  }

  async waitUntilElement(script, args, what) {
    const v = await this.waitUntil(script, args, { what });
    return new Element(this, v[ELEMENT]);
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async screenshot(path) {
    const b64 = await this.cmd('GET', '/screenshot');
    await writeFile(path, Buffer.from(b64, 'base64'));
  }

  async keys(...chord) {
    const down = chord.map((k) => ({ type: 'keyDown', value: k }));
    const up = [...chord].reverse().map((k) => ({ type: 'keyUp', value: k }));
    await this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions: [...down, ...up] }] });
    await this.cmd('DELETE', '/actions');
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }
  click() {
    return this.s.cmd('POST', `/element/${this.id}/click`, {});
  }
  clear() {
    return this.s.cmd('POST', `/element/${this.id}/clear`, {});
  }
  type(text) {
    return this.s.cmd('POST', `/element/${this.id}/value`, { text });
  }
  text() {
    return this.s.cmd('GET', `/element/${this.id}/text`);
  }
  displayed() {
    return this.s.cmd('GET', `/element/${this.id}/displayed`);
  }
  property(name) {
    return this.s.cmd('GET', `/element/${this.id}/property/${name}`);
  }
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    throw new WebDriverError(`${method} ${path}: ${v.error ?? res.status}: ${v.message ?? text.slice(0, 200)}`);
  }
  return json.value;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
