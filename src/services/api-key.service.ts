import type { DataSource } from 'typeorm';
import { ApiKeyEntity, ApiKeyScope } from '../entities/own/api-key.entity';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '../auth/api-keys';
import { entityRows, type EntityRows } from '../db/entity-rows';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app-errors';

const LAST_USED_RESOLUTION_MS = 60_000;

/** Creates, lists, revokes and checks API keys. Keys are stored as SHA-256 only. */
export class ApiKeyService {
  /** Every request with a key starts here (see entityRows). */
  private readonly rows: EntityRows<ApiKeyEntity>;

  constructor(private readonly db: DataSource) {
    this.rows = entityRows(db, ApiKeyEntity);
  }

  /** Creates a key and returns it in clear text: the only time it can be seen. */
  async create(name: string, scope: string): Promise<{ key: string; record: ApiKeyEntity }> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new ValidationError('A key name is 1-64 letters, digits, dots, dashes or underscores');
    }
    if (scope !== ApiKeyScope.ADMIN && scope !== ApiKeyScope.READ) {
      throw new ValidationError('The scope of a key is admin or read');
    }
    const repo = this.db.getRepository(ApiKeyEntity);
    if (await repo.findOneBy({ name })) throw new ConflictError(`A key named ${name} exists already`);
    const key = generateApiKey();
    const record = repo.create({
      name,
      scope: scope as ApiKeyScope,
      keyPrefix: key.slice(0, 12),
      keyHash: hashApiKey(key),
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await repo.insert(record);
    return { key, record };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.db.getRepository(ApiKeyEntity).find({ order: { id: 'ASC' } });
  }

  async revoke(name: string): Promise<ApiKeyEntity> {
    const repo = this.db.getRepository(ApiKeyEntity);
    const record = await repo.findOneBy({ name });
    if (!record) throw new NotFoundError('API key', name);
    if (!record.revokedAt) {
      record.revokedAt = new Date();
      // Free the name for a new key while keeping the row for the audit trail.
      record.name = `${name.slice(0, 40)}~revoked~${record.id}`;
      await repo.save(record);
    }
    return record;
  }

  /** The live key record for a presented key, or null. */
  async authenticate(key: string): Promise<ApiKeyEntity | null> {
    if (!looksLikeApiKey(key)) return null;
    const repo = this.db.getRepository(ApiKeyEntity);
    const [record = null] = await this.rows.query('WHERE key_hash = ? AND revoked_at IS NULL LIMIT 1', [
      hashApiKey(key),
    ]);
    if (
      record &&
      (!record.lastUsedAt || Date.now() - record.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS)
    ) {
      record.lastUsedAt = new Date();
      // Best effort and rare (once a minute per key): a failed bookkeeping write must not fail the request.
      await repo.update({ id: record.id }, { lastUsedAt: record.lastUsedAt }).catch(() => undefined);
    }
    return record;
  }
}
