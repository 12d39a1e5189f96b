import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { END_REASON, ROUTEROS_END_REASON } from '../../src/services/sessions/session-log.service';

// Screens translate a session's end reason by a key made from the server's words: every reason the
// server can write has that key in every language the module ships.
describe('session end reasons', () => {
  const langDir = path.join(
    __dirname,
    '..',
    '..',
    '..',
    'php-bridge',
    'modules',
    'servers',
    'mikrotikvpn',
    'lang',
  );
  const reasons = [
    ...new Set([...Object.values(END_REASON), ...Object.values(ROUTEROS_END_REASON), 'disconnected']),
  ];
  it('every end reason the server writes has its key in each of the 25 language files', () => {
    const files = fs.readdirSync(langDir).filter((f) => f.endsWith('.php'));
    expect(files).to.have.length(25);
    const missing = files.flatMap((file) => {
      const text = fs.readFileSync(path.join(langDir, file), 'utf8');
      return reasons
        .filter((r) => !text.includes(`$_LANG['session_end_${r.toLowerCase().replace(/[^a-z0-9]+/g, '_')}']`))
        .map((r) => `${file}: ${r}`);
    });
    expect(missing).to.deep.equal([]);
  });
});
