import crypto from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { RouterEntity } from '../entities/own/router.entity';
import { VpnAccountEntity } from '../entities/own/vpn-account.entity';
import { WhmcsServer } from '../entities/whmcs/whmcs-server.entity';
import { AppError, NotFoundError, ValidationError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import { MissingKeyError, type SecretBox } from '../auth/secret-box';
import type { RequestContext } from '../context/request-context';
import type { EventService } from './event.service';
import { parseAddressList } from './address-pool';
import { MODULE_NAME } from './product.service';
import { entityRows, type EntityRows } from '../db/entity-rows';
import type { RouterTarget } from '../router';

/** A router as a WHMCS server record describes it. The password is write-only. */
export interface RouterSettings {
  serverId: number;
  name?: string;
  host: string;
  port?: number;
  tls?: boolean;
  username: string;
  password?: string;
  caPem?: string;
  fingerprintSha256?: string;
}

/** How much of a server's address list is in use. */
export interface AddressPoolUse {
  total: number;
  used: number;
  free: number;
  /** Lines of the address list that are not an IP address. */
  malformedLines: string[];
}

export const DEFAULT_API_SSL_PORT = 8729;
export const DEFAULT_API_PORT = 8728;

/** Routers: one per WHMCS server record of this module, with encrypted credentials. */
export class RouterService {
  /** The routers of a page of accounts are read on every list request (see entityRows). */
  private readonly rows: EntityRows<RouterEntity>;

  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly events: EventService,
  ) {
    this.rows = entityRows(db, RouterEntity);
  }

  list(): Promise<RouterEntity[]> {
    return this.db.getRepository(RouterEntity).find({ order: { id: 'ASC' } });
  }

  findByServerId(serverId: number): Promise<RouterEntity | null> {
    return this.db.getRepository(RouterEntity).findOneBy({ serverId });
  }

  async findByIds(ids: readonly number[]): Promise<Map<number, RouterEntity>> {
    const rows = ids.length
      ? await this.rows.query(`WHERE id IN (${ids.map(() => '?').join(', ')})`, [...ids])
      : [];
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Creates or updates the router of a WHMCS server. The password is kept when not given. */
  async upsert(ctx: RequestContext, input: RouterSettings): Promise<RouterEntity> {
    const server = await this.db.getRepository(WhmcsServer).findOneBy({ id: input.serverId });
    if (!server) throw new NotFoundError('WHMCS server', input.serverId);
    if (server.type !== MODULE_NAME) {
      throw new ValidationError(`WHMCS server ${input.serverId} does not use the ${MODULE_NAME} module`);
    }
    const caPem = normalisePem(input.caPem);
    const fingerprint = input.fingerprintSha256 ? normaliseFingerprint(input.fingerprintSha256) : null;
    const tls = input.tls ?? true;

    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(RouterEntity);
      // Lock the row (or the gap) so that two concurrent upserts of one server cannot both insert.
      const existing = await repo.findOne({
        where: { serverId: input.serverId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!existing && !input.password) throw new ValidationError('password is required for a new router');
      const router = existing ?? repo.create({ serverId: input.serverId });
      router.name = input.name?.trim() || server.name || `server ${server.id}`;
      router.host = input.host.trim();
      router.tls = tls;
      router.port = input.port ?? (tls ? DEFAULT_API_SSL_PORT : DEFAULT_API_PORT);
      router.username = input.username;
      if (input.password) router.passwordEncrypted = this.secrets.encrypt(input.password);
      router.caPem = caPem;
      router.fingerprintSha256 = fingerprint;
      const saved = await repo.save(router);
      await this.events.record(
        ctx,
        { action: existing ? 'router.update' : 'router.create', result: 'OK', routerId: saved.id },
        manager,
      );
      return saved;
    });
  }

  /** Address pool use per router, for many routers in two queries. */
  async addressPools(routers: readonly RouterEntity[]): Promise<Map<number, AddressPoolUse>> {
    if (!routers.length) return new Map();
    const servers = await this.db
      .getRepository(WhmcsServer)
      .findBy({ id: In([...new Set(routers.map((r) => r.serverId))]) });
    const used: { routerId: number; address: string }[] = await this.db
      .getRepository(VpnAccountEntity)
      .createQueryBuilder('a')
      .select(['a.router_id AS routerId', 'a.address AS address'])
      .where('a.router_id IN (:...ids)', { ids: routers.map((r) => r.id) })
      .andWhere('a.live_address IS NOT NULL')
      .getRawMany();
    const byServer = new Map(servers.map((s) => [s.id, parseAddressList(s.assignedips)]));
    return new Map(
      routers.map((router) => {
        const list = byServer.get(router.serverId) ?? { addresses: [], malformed: [] };
        const inList = new Set(list.addresses);
        const usedCount = used.filter(
          (u) => Number(u.routerId) === router.id && inList.has(u.address),
        ).length;
        return [
          router.id,
          {
            total: list.addresses.length,
            used: usedCount,
            free: list.addresses.length - usedCount,
            malformedLines: list.malformed.map((m) => `line ${m.line}: ${m.text}`),
          },
        ];
      }),
    );
  }

  /**
   * How the adapter reaches a router, with its password decrypted (never leaves the adapter). A
   * password under a key the key file lacks is an AppError saying what to do (reason
   * `ENCRYPTION_KEY_MISSING`): the CLI, the collector and WHMCS show it as one line.
   */
  target(router: RouterEntity): RouterTarget {
    let password: string;
    try {
      password = this.secrets.decrypt(router.passwordEncrypted);
    } catch (error) {
      if (!(error instanceof MissingKeyError)) throw error;
      throw new AppError(
        ErrorCode.INTERNAL_SERVER_ERROR,
        `The password of router ${router.id} ("${router.name}") is encrypted under key ${error.keyId}, which is not in the key file — put that key line back into ENCRYPTION_KEY_FILE, or enter the router's password again in WHMCS (Servers)`,
        { reason: 'ENCRYPTION_KEY_MISSING', routerId: String(router.id), keyId: error.keyId },
      );
    }
    return {
      id: String(router.id),
      host: router.host,
      port: router.port,
      tls: router.tls,
      username: router.username,
      password,
      caPem: router.caPem,
      fingerprintSha256: router.fingerprintSha256,
    };
  }
}

function normalisePem(pem: string | undefined): string | null {
  if (!pem?.trim()) return null;
  try {
    new crypto.X509Certificate(pem);
  } catch {
    throw new ValidationError('caPem is not a PEM certificate');
  }
  return pem.trim();
}

function normaliseFingerprint(fp: string): string {
  const hex = fp.replace(/:/g, '').toUpperCase();
  return hex.match(/../g)!.join(':');
}
