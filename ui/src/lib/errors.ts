// An error as the user reads it: the catalogue sentence for its code, in the user's language, with the
// parameters filled in. The backend's English text (`detail`) is shown only behind "Details".
import { BackendError, type ErrorParams } from './backend/types';
import { formatNumber, t } from './i18n/index.svelte';

/** Parameters that are words from a closed list, translated with their own catalogue keys. */
const WORD_PARAMS: Record<string, string> = {
  needed: 'role',
  kind: 'kind',
  expected: 'kind',
  found: 'kind',
  existing: 'kind',
  new: 'kind',
};

/** The parameters as the catalogue sentence shows them. */
function shown(params: ErrorParams): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string' && WORD_PARAMS[k]) out[k] = t(`${WORD_PARAMS[k]}.${v}`);
    else if (typeof v === 'number' && k !== 'seq' && k !== 'other' && k !== 'waiting' && k !== 'status' && k !== 'version') out[k] = formatNumber(v);
    else out[k] = v;
  }
  return out;
}

/** The translated sentence for an error (any rejection: a BackendError, an IPC error object, a string). */
export function errorText(e: unknown): string {
  const err = BackendError.from(e);
  const params = shown(err.params);
  let text = t(`error.${err.code}`, params);
  if (err.params.waiting !== undefined) text += ` ${t('error.waiting', params)}`;
  return text;
}
