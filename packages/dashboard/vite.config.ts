import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The server serves these files itself (packages/server/src/dashboard/assets.ts); building into
// its folder means the server package (and the CLI tarball) carries them without a copy step.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../server/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Served with the server's own Content-Security-Policy: no inline code, no eval.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8732" } },
});
