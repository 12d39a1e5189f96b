import { expect } from 'chai';
import { SecretBox, generateKeyLine } from '../../src/auth/secret-box';
import { ConfigError, loadEncryptionKeys } from '../../src/config/app-config';

describe('secret box (router credentials at rest)', () => {
  const keys = loadEncryptionKeys({ ENCRYPTION_KEY: `${generateKeyLine('old')}\n${generateKeyLine('new')}` });

  it('encrypts with the active key and a random IV, and decrypts', () => {
    const box = new SecretBox(keys);
    const a = box.encrypt('s3cret-ä');
    const b = box.encrypt('s3cret-ä');
    expect(a).to.not.equal(b);
    expect(a).to.not.include('s3cret');
    expect(box.keyIdOf(a)).to.equal('new');
    expect(box.decrypt(a)).to.equal('s3cret-ä');
  });

  it('still reads values encrypted under an older key', () => {
    const oldOnly = new SecretBox(loadEncryptionKeys({ ENCRYPTION_KEY: generateKeyLine('solo') }));
    const stored = oldOnly.encrypt('pw');
    const both = new SecretBox({
      activeKeyId: 'new',
      keys: new Map([...keys.keys, ...oldOnly['keys'].keys]),
    });
    expect(both.decrypt(stored)).to.equal('pw');
  });

  it('refuses a tampered value', () => {
    const box = new SecretBox(keys);
    const parts = box.encrypt('pw').split(':');
    parts[3] = Buffer.from('xx').toString('base64');
    expect(() => box.decrypt(parts.join(':'))).to.throw();
  });

  it('rejects malformed keys with a message naming the setting', () => {
    expect(() => loadEncryptionKeys({ ENCRYPTION_KEY: 'k1:tooshort' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('ENCRYPTION_KEY');
    expect(() => loadEncryptionKeys({})).to.throw(ConfigError, /ENCRYPTION_KEY_FILE/);
  });
});
