// The UI's session state and navigation. Everything read from the vault
// lives in screen components and is dropped when the app locks, because
// locking replaces the whole tree.
import type { Backend } from './backend/backend';
import { BackendError } from './backend/types';
import type { RecordKind, SessionInfo } from './backend/types';

export type Route =
  | { name: 'records'; tab: RecordKind }
  | { name: 'person'; id: string }
  | { name: 'person_edit'; id?: string }
  | { name: 'case'; id: string }
  | { name: 'case_edit'; id?: string; detaineeId?: string }
  | { name: 'interview'; id?: string; detaineeId?: string; caseId?: string }
  | { name: 'history'; id: string }
  | { name: 'outbox' }
  | { name: 'sync' }
  | { name: 'travel' }
  | { name: 'coordinator' }
  | { name: 'register' }
  | { name: 'settings' };

/** locking: locked, waiting for the page to be loaded again in a fresh web process. */
export type Phase = 'loading' | 'first_run' | 'locked' | 'locking' | 'unlocked';

let backendRef: Backend | null = null;

export function setBackend(b: Backend): void {
  backendRef = b;
}

export function backend(): Backend {
  if (!backendRef) throw new Error('backend not set');
  return backendRef;
}

export const app = $state({
  phase: 'loading' as Phase,
  session: null as SessionInfo | null,
  route: { name: 'records', tab: 'person' } as Route,
  history: [] as Route[],
  idleMinutes: 10,
  /** A short status message for screen readers and sighted users. */
  notice: '',
});

export function navigate(route: Route): void {
  app.history.push(app.route);
  if (app.history.length > 50) app.history.shift();
  app.route = route;
  app.notice = '';
}

export function back(): void {
  app.route = app.history.pop() ?? { name: 'records', tab: 'person' };
}

export async function refreshStatus(): Promise<void> {
  const s = await backend().appStatus();
  app.idleMinutes = s.idle_lock_minutes;
  // The idle time is a preference of this computer, kept by the UI.
  const saved = Number(typeof localStorage !== 'undefined' ? localStorage.getItem('yaddash.idle') : NaN);
  if (Number.isInteger(saved) && saved >= 1 && saved <= 240 && saved !== s.idle_lock_minutes) {
    await backend().setIdleLock(saved);
    app.idleMinutes = saved;
  }
  await applySavedPanicAction();
  app.phase = !s.vault_exists ? 'first_run' : s.unlocked ? 'unlocked' : 'locked';
  if (app.phase === 'unlocked' && !app.session) app.session = await backend().sessionInfo();
}

export function unlocked(session: SessionInfo): void {
  app.session = session;
  app.route = { name: 'records', tab: 'person' };
  app.history = [];
  app.phase = 'unlocked';
}

/** Forgets everything shown (the screens unmount) and shows the unlock screen. */
export function lockedNow(): void {
  app.session = null;
  app.history = [];
  app.route = { name: 'records', tab: 'person' };
  app.notice = '';
  app.phase = 'locked';
}

/** Where the panic shortcut's action is kept (a preference of this computer, like the idle time). */
export const PANIC_ACTION_KEY = 'yaddash.panic';

/** Tells the backend the panic action chosen on this computer (it forgets it at every start). */
async function applySavedPanicAction(): Promise<void> {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(PANIC_ACTION_KEY) : null;
  if (saved !== 'quick_delete') return;
  try {
    await backend().setPanicAction('quick_delete');
  } catch {
    // An older backend: the shortcut then locks and hides.
  }
}

/** How long to wait for the fresh page before showing the unlock form anyway. */
const RELOAD_WAIT_MS = 3000;

/**
 * Locked by the backend (the button, the idle clock, the panic shortcut):
 * forgets everything shown and, when the backend reloads the page in a
 * fresh web process, shows nothing but "Locked" until it does (the unlock
 * form then comes from the new page).
 */
export function lockedByBackend(): void {
  lockedNow();
  if (!backend().reloadsOnLock) return;
  app.phase = 'locking';
  setTimeout(() => {
    if (app.phase === 'locking') app.phase = 'locked';
  }, RELOAD_WAIT_MS);
}

export async function lockVault(panic = false): Promise<void> {
  lockedByBackend();
  try {
    if (panic) await backend().panicLock();
    else await backend().lock();
  } catch {
    // Already locked on the Rust side or the window cannot minimise: the UI is locked either way.
  }
}

/** The human message of an error, with the code for a screen to branch on. */
export function errorOf(e: unknown): BackendError {
  const err = BackendError.from(e);
  if (err.code === 'locked') lockedNow();
  return err;
}
