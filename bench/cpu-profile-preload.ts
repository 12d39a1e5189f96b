import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

/**
 * Preloaded into the GraphQL server (`NODE_OPTIONS=--require`) by `npm run bench -- graphql
 * --server-cpu-prof DIR`, since --cpu-prof is not allowed in NODE_OPTIONS. Profiles the process in
 * sections: each SIGUSR2 writes the section so far as DIR/server-<pid>-<n>.cpuprofile (open in Chrome
 * DevTools) and starts the next, so the bench can profile one load phase alone; the last section is
 * written when the process exits.
 */
const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  let section = 0;
  const write = (restart: boolean) =>
    // The in-process inspector answers synchronously, so this completes before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(
          path.join(dir, `server-${process.pid}-${section++}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      if (restart) session.post('Profiler.start');
    });
  process.on('SIGUSR2', () => write(true));
  process.on('exit', () => write(false));
}
