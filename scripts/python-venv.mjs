// A Python peer (an SDK or an agent from PyPI) as a venv made with the machine's python3 in the
// peers cache, for scripts/ensure-python-livekit.mjs and scripts/ensure-hermes-agent.mjs. Made in
// place (a venv's scripts name the folder they were made in, so it cannot be renamed): the
// manifest entry, written only once `importCheck` runs, is what marks it complete.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensurePeer, runStep } from './peers-manifest.mjs';

const BIN = 'bin/python';
const PIP_ENV = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };

/**
 * `packages`: name → exact version the venv must hold; `requirements`: what pip installs;
 * `importCheck`: Python that must run afterwards (it loads native libraries too).
 */
export function ensureVenvPeer({ id, packages, requirements, importCheck, timeoutMs }) {
  const [mainPackage, version] = Object.entries(packages)[0];
  const dirName = `${id}-${version}`;
  const dir = join(cacheDir, dirName);
  const python = join(dir, BIN);
  const label = Object.entries(packages)
    .map(([name, pinned]) => `${name}==${pinned}`)
    .join(' ');

  /** True when the venv holds exactly `packages`; fast: reads package metadata only. */
  const holdsPackages = () => {
    if (!existsSync(python)) return false;
    const script =
      'import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))';
    const result = spawnSync(python, ['-c', script, ...Object.keys(packages)], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (result.status !== 0) return false;
    try {
      const versions = JSON.parse(result.stdout);
      return Object.entries(packages).every(([name, pinned]) => versions[name] === pinned);
    } catch {
      return false;
    }
  };

  const install = () => {
    rmSync(dir, { recursive: true, force: true });
    const pip = ['-m', 'pip', 'install', '--quiet', ...requirements];
    const failure =
      runStep('python3 -m venv', 'python3', ['-m', 'venv', dir], { timeout: 120_000 }) ??
      runStep('pip install', python, pip, { timeout: timeoutMs, env: PIP_ENV }) ??
      runStep('the import check', python, ['-c', importCheck], { timeout: 120_000 }) ??
      (holdsPackages() ? undefined : `installed, but the versions are not ${label}`);
    if (failure !== undefined) rmSync(dir, { recursive: true, force: true });
    return failure;
  };

  ensurePeer({
    id,
    label,
    entry: { package: mainPackage, version, packages, dir: dirName, bin: BIN },
    present: (entry) => entry.version === version && entry.dir === dirName && holdsPackages(),
    install,
    doing: 'installing into a venv',
  });
}
