// One writer of the registry concurrency test, as a process of its own: moves its label back and
// forth between versions 1 and 2 `moves` times. Usage: registry-writer.ts folder|git|git-apart LOCATION CACHE LABEL MOVES
// (git-apart: as if each writer were on a machine of its own, kept apart by rejected pushes alone)
import { FolderRegistryStore, GitRegistryStore, Registry } from '../../src/core';

async function main(): Promise<void> {
  const [backend, location, cache, label, moves] = process.argv.slice(2);
  const store = backend.startsWith('git') ? new GitRegistryStore(location, cache, { name: label, email: `${label}@example.com` }, { sameHostTurns: backend !== 'git-apart' }) : new FolderRegistryStore(location, { waitMs: 120_000 });
  const registry = new Registry(store);
  for (let i = 0; i < Number(moves); i++) {
    await registry.setLabel('support', label, (i % 2) + 1, { actor: label, at: new Date().toISOString() });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  },
);
