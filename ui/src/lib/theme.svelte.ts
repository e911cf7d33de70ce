export type ThemeChoice = 'system' | 'light' | 'dark';

function initial(): ThemeChoice {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('yaddash.theme') : null;
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

export const theme = $state({ choice: initial() });

export function applyTheme(choice: ThemeChoice): void {
  theme.choice = choice;
  try {
    localStorage.setItem('yaddash.theme', choice);
  } catch {
    /* not persisted */
  }
  if (typeof document === 'undefined') return;
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}
