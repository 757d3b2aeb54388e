// Runs the bench's TypeScript as plain ES2022, the way `tsc` (and so `dist/`) emits it: each .ts
// file is transpiled by esbuild with the repository's class-field and import semantics and nothing
// else. tsx is not used here because it always compiles with `keepNames`, which wraps every
// function created at run time in `__name(fn, "name")`: one extra defineProperty per closure and a
// 256-byte property dictionary on each (a closure per call shows up as +256 B per pending call).
import { register } from 'node:module';

register('./loader.mjs', import.meta.url);
