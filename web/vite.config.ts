import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The shared schema (and the pure cadence grid) are imported from functions/src, the one
// source of truth; functions never depend on this package, so `firebase deploy` stays whole.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@functions': fileURLToPath(new URL('../functions/src', import.meta.url)) } },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/firebase') || id.includes('node_modules/@firebase')) return 'firebase';
          return undefined;
        },
      },
    },
  },
});
