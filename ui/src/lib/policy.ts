// The safety policy form: checks as the user types, mirroring the Rust
// rules (crates/wire/src/policy.rs) for quick feedback. The backend checks
// again and is the one that decides; these only spare a round trip.
import type { PolicyForm } from './backend/types';

function hhmm(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}

/** `22:00-05:30` (may cross midnight; start and end must differ). */
export function validWindow(w: string): boolean {
  const parts = w.trim().split('-');
  if (parts.length !== 2) return false;
  const a = hhmm(parts[0]);
  const b = hhmm(parts[1]);
  return a !== null && b !== null && a !== b;
}

/** The windows typed in one field, separated by commas or spaces. */
export function splitWindows(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((w) => w.trim())
    .filter(Boolean);
}

/** `+04:00`, `-03:30`, `Z`, `UTC` (at most ±14:00). */
export function validOffset(s: string): boolean {
  const t = s.trim();
  if (t === '' || ['Z', 'z', 'UTC', 'utc', '0'].includes(t)) return true;
  const sign = t[0];
  if (sign !== '+' && sign !== '-') return false;
  const m = hhmm(t.slice(1));
  return m !== null && m <= 14 * 60;
}

/** `socks5h://host:port` (or `socks5://`, which the backend turns into socks5h). */
export function validProxy(url: string): boolean {
  const m = /^socks5h?:\/\/(.+):(\d{1,5})\/?$/.exec(url.trim());
  if (!m) return false;
  const host = m[1];
  const port = Number(m[2]);
  return port > 0 && port <= 65535 && host.length > 0 && !/[/@?# ]/.test(host);
}

/** The i18n keys of what is wrong with the form (empty: fine to send). */
export function validatePolicy(f: PolicyForm): string[] {
  const out: string[] = [];
  if (f.windows.some((w) => !validWindow(w))) out.push('sync.v_window');
  if (!validOffset(f.utc_offset)) out.push('sync.v_offset');
  const proxy = f.proxy?.trim() ?? '';
  if (proxy && !validProxy(proxy)) out.push('sync.v_proxy');
  if (f.require_proxy && !proxy) out.push('sync.v_require_proxy');
  return out;
}

/** Percent of a bundle sent, 0–100. */
export function percent(sent: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.floor((sent * 100) / total));
}
