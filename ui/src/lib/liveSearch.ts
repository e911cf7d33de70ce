// Search as you type without a debounce and without ever showing an older
// answer: each keystroke asks at once when nothing is in flight; while a
// request runs, only the newest query waits (the ones typed in between are
// skipped), and an answer is shown only if no keystroke came after the one
// it answers.

export interface LiveSearch {
  /** The box now holds `query` (non-empty): ask for it as soon as possible. */
  set(query: string): void;
  /** Forget the pending query and ignore the answer in flight. */
  cancel(): void;
  /** Whether a request is running or waiting. */
  readonly busy: boolean;
}

export function liveSearch<T>(
  run: (query: string) => Promise<T>,
  onResult: (query: string, result: T) => void,
  onError: (error: unknown) => void,
): LiveSearch {
  let latest = 0;
  let wanted: string | null = null;
  let inFlight = false;

  async function pump(): Promise<void> {
    if (inFlight || wanted === null) return;
    const query = wanted;
    const mine = latest;
    wanted = null;
    inFlight = true;
    let outcome: { ok: true; result: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: await run(query) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    inFlight = false;
    // Ask for the newest query first, so `busy` is true while it runs.
    void pump();
    if (mine !== latest) return;
    if (outcome.ok) onResult(query, outcome.result);
    else onError(outcome.error);
  }

  return {
    set(query: string) {
      latest += 1;
      wanted = query;
      void pump();
    },
    cancel() {
      latest += 1;
      wanted = null;
    },
    get busy() {
      return inFlight || wanted !== null;
    },
  };
}
