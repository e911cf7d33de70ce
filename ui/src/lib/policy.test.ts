import { describe, expect, it } from 'vitest';
import type { PolicyForm } from './backend/types';
import { percent, splitWindows, validatePolicy, validOffset, validProxy, validWindow } from './policy';

const base: PolicyForm = {
  enabled: true,
  network_off: false,
  mode: 'automatic',
  windows: [],
  utc_offset: '+04:00',
  proxy: null,
  require_proxy: false,
};

describe('safety policy form checks (mirror crates/wire/src/policy.rs)', () => {
  it('time windows: HH:MM-HH:MM, may cross midnight, not empty', () => {
    for (const w of ['22:00-05:30', '8:00-09:15', '00:00-23:59']) expect(validWindow(w), w).toBe(true);
    for (const w of ['25:00-01:00', '10:00', '10:00-10:00', '1000-1100', '10:0-11:00', '10:60-11:00', '', 'a-b']) {
      expect(validWindow(w), w).toBe(false);
    }
    expect(splitWindows(' 22:00-05:30,08:00-09:00  12:00-13:00; ')).toEqual(['22:00-05:30', '08:00-09:00', '12:00-13:00']);
  });

  it('UTC offsets: +HH:MM / -HH:MM within ±14:00, or UTC', () => {
    for (const o of ['+04:00', '-03:30', 'UTC', 'Z', '+14:00', '']) expect(validOffset(o), o).toBe(true);
    for (const o of ['04:00', '+4', '+15:00', '+04:60', 'Baku']) expect(validOffset(o), o).toBe(false);
  });

  it('proxy URLs: SOCKS5 with a port, no credentials or paths', () => {
    for (const u of ['socks5h://127.0.0.1:9050', 'socks5://127.0.0.1:9150', 'socks5h://localhost:9050/']) expect(validProxy(u), u).toBe(true);
    for (const u of ['http://127.0.0.1:8080', 'socks5h://127.0.0.1', 'socks5h://u:p@127.0.0.1:9050', 'socks5h://127.0.0.1:0', 'socks5h://127.0.0.1:70000', 'socks5h://h/x:9050']) {
      expect(validProxy(u), u).toBe(false);
    }
  });

  it('require proxy needs a proxy; each problem is named once', () => {
    expect(validatePolicy(base)).toEqual([]);
    expect(validatePolicy({ ...base, require_proxy: true })).toEqual(['sync.v_require_proxy']);
    expect(validatePolicy({ ...base, require_proxy: true, proxy: '  ' })).toEqual(['sync.v_require_proxy']);
    expect(validatePolicy({ ...base, require_proxy: true, proxy: 'socks5h://127.0.0.1:9050' })).toEqual([]);
    expect(validatePolicy({ ...base, windows: ['22:00-05:30', '9-10'], utc_offset: '4', proxy: 'tor' })).toEqual([
      'sync.v_window',
      'sync.v_offset',
      'sync.v_proxy',
    ]);
  });

  it('progress percent is bounded', () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
  });
});
