// Sync helpers shared by the Sync, Travel and Coordinator screens: a
// transfer's progress as text. (What an error means: ../errors.ts.)
import type { JobProgress } from './backend/types';
import { formatBytes, formatNumber, t, tp } from './i18n/index.svelte';

/** One line describing a transfer's progress. */
export function progressText(p: JobProgress): string {
  switch (p.event) {
    case 'exporting':
      return t('sync.p_exporting', { bytes: formatBytes(p.bytes) });
    case 'uploading':
      return t('sync.p_uploading', { seq: p.seq, sent: formatBytes(p.sent), total: formatBytes(p.total) });
    case 'received':
      return t('sync.p_received', { seq: p.seq });
    case 'waiting':
      return tp('sync.p_waiting', p.unconfirmed, { secs: formatNumber(p.waited_secs) });
    case 'removing':
      return t('sync.p_removing', { done: formatNumber(p.done), total: formatNumber(p.total) });
    case 'importing':
      return t('sync.p_importing', { bytes: formatBytes(p.bytes), total: formatBytes(p.total) });
  }
}

/** (value, max) for a progress bar, or null when there is no measure. */
export function progressBar(p: JobProgress): [number, number] | null {
  switch (p.event) {
    case 'uploading':
      return [p.sent, Math.max(p.total, 1)];
    case 'removing':
      return [p.done, Math.max(p.total, 1)];
    case 'importing':
      return [Math.min(p.bytes, p.total), Math.max(p.total, 1)];
    default:
      return null;
  }
}
