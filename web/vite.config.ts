import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const webDir = fileURLToPath(new URL('.', import.meta.url));
const repoDir = fileURLToPath(new URL('..', import.meta.url));
const server = 'http://localhost:3000';

// The web app lives in web/ but imports shared types and KINDS from server/src.
export default defineConfig({
  root: webDir,
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    fs: { allow: [repoDir] },
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
    },
  },
});
