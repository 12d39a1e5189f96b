import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

/**
 * Preloaded into the GraphQL server (`NODE_OPTIONS=--require`) by `npm run bench -- graphql
 * --server-cpu-prof DIR`, since --cpu-prof is not allowed in NODE_OPTIONS: profiles the whole
 * process and writes DIR/server-<pid>.cpuprofile (open in Chrome DevTools) when it exits.
 */
const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process inspector answers synchronously, so this completes before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(path.join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
