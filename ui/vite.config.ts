import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The app loads the built files from the binary (no dev server, no remote
// content); tests run in jsdom against the in-memory backend.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  // The user guides are read from docs/guide.*.md (one copy, bundled as text).
  server: { fs: { allow: ['.', '../docs'] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'safari15',
    sourcemap: false,
    // No inline <script>/<style>: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
  },
});
