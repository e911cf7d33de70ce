// The one transfer (sync, travel mode, pull, automatic send) the backend
// may be running, as the screens show it. Fed by the backend's events.
import { backend } from './app.svelte';
import type { Backend } from './backend/backend';
import type { JobFinished, JobKind, JobProgress } from './backend/types';

export const transfer = $state({
  running: null as JobKind | null,
  progress: null as JobProgress | null,
  finished: null as JobFinished | null,
  /** Bumped at every end, for screens to refresh. */
  ends: 0,
});

let watching: Backend | null = null;

/** Subscribes to the backend's transfer events (once per backend) and asks what runs now. */
export async function watchTransfers(): Promise<void> {
  const b = backend();
  if (watching !== b) {
    watching = b;
    transfer.running = null;
    transfer.progress = null;
    transfer.finished = null;
    await b.onSyncProgress((p) => {
      transfer.running = p.job;
      transfer.progress = p;
    });
    await b.onSyncFinished((f) => {
      transfer.running = null;
      transfer.progress = null;
      transfer.finished = f;
      transfer.ends += 1;
    });
  }
  try {
    transfer.running = await b.syncStatus();
  } catch {
    /* locked: nothing runs */
  }
}

/** A transfer was started from the window. */
export function started(job: JobKind): void {
  transfer.running = job;
  transfer.progress = null;
  transfer.finished = null;
}
