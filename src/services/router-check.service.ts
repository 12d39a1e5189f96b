import type { DataSource } from 'typeorm';
import { RouterEntity } from '../entities/own/router.entity';
import type { RouterSettings } from './router.service';
import { AppError, ValidationError } from '../errors/app-errors';
import { ErrorCode } from '../errors/error-code';
import type { RouterGateway, RouterSessionPool, RouterTarget } from '../router';
import type { RouterService } from './router.service';
import { DEFAULT_API_PORT, DEFAULT_API_SSL_PORT } from './router.service';
import type { EventService } from './event.service';
import type { RequestContext } from '../context/request-context';
import { settingIndex } from '../product/product-settings';
import { MODULE_NAME } from './product.service';

/** What an admin should do about each way a router can refuse us. */
/** What Test Connection found. */
export interface RouterTestReport {
  /** Login works and nothing blocks provisioning. */
  ok: boolean;
  identity: string | null;
  version: string | null;
  uptimeSeconds: number | null;
  profiles: string[];
  /** WireGuard interfaces with their listen ports (none on RouterOS 6). */
  wireguardInterfaces: {
    name: string;
    listenPort: number;
    mtu: number;
    publicKey: string;
    running: boolean;
  }[];
  errorCode: ErrorCode | null;
  /** What blocks provisioning, in words an admin can act on. */
  problems: string[];
  /** What works but deserves attention. */
  warnings: string[];
}

const ADVICE: Partial<Record<ErrorCode, (input: RouterSettings, port: number) => string>> = {
  [ErrorCode.ROUTER_UNREACHABLE]: (input, port) =>
    input.tls === false
      ? `Nothing answers on ${input.host}:${port}. Is the api service enabled (/ip service enable api) and reachable from this server?`
      : `Nothing answers on ${input.host}:${port}. Is api-ssl enabled with a certificate (/ip service set api-ssl certificate=... disabled=no) and reachable from this server?`,
  [ErrorCode.ROUTER_TIMEOUT]: (input, port) =>
    `${input.host}:${port} accepted the connection but did not answer in time. Check firewall rules and the router's load.`,
  [ErrorCode.ROUTER_AUTH_FAILED]: () =>
    'The router refused the login. Check the user name and password, and that the user\'s group has the "api", "read" and "write" policies.',
  [ErrorCode.ROUTER_TLS_FAILED]: () =>
    "The router's certificate does not match the pinned CA or fingerprint. Export the router's CA again (/certificate export-certificate) and paste it, or fix the fingerprint.",
};

/** "Test Connection": checks credentials, TLS pin and RouterOS version, and reads what can be filled in. */
export class RouterCheckService {
  constructor(
    private readonly db: DataSource,
    private readonly routers: RouterService,
    private readonly gateway: RouterGateway,
    private readonly pool: RouterSessionPool,
    private readonly events: EventService,
  ) {}

  async test(ctx: RequestContext, input: RouterSettings): Promise<RouterTestReport> {
    const existing = await this.db.getRepository(RouterEntity).findOneBy({ serverId: input.serverId });
    const password = input.password ?? (existing ? this.routers.target(existing).password : undefined);
    if (!password) throw new ValidationError('password is required to test a router that is not saved yet');
    const tls = input.tls ?? true;
    const port = input.port ?? (tls ? DEFAULT_API_SSL_PORT : DEFAULT_API_PORT);
    const target: RouterTarget = {
      id: `test-${input.serverId}`,
      host: input.host.trim(),
      port,
      tls,
      username: input.username,
      password,
      caPem: input.caPem ?? null,
      fingerprintSha256: input.fingerprintSha256 ?? null,
    };
    const result: RouterTestReport = {
      ok: false,
      identity: null,
      version: null,
      uptimeSeconds: null,
      profiles: [],
      wireguardInterfaces: [],
      errorCode: null,
      problems: [],
      warnings: [],
    };
    try {
      const [identity, resource, profiles, queues, wgInterfaces] = await Promise.all([
        this.gateway.identity(target),
        this.gateway.systemResource(target),
        this.gateway.listPppProfiles(target),
        this.gateway.listSimpleQueues(target),
        this.gateway.listWireGuardInterfaces(target),
      ]);
      result.wireguardInterfaces = wgInterfaces.map(({ name, listenPort, mtu, publicKey, running }) => ({
        name,
        listenPort,
        mtu,
        publicKey,
        running,
      }));
      result.identity = identity;
      result.version = resource.version;
      result.uptimeSeconds = resource.uptimeSeconds;
      result.profiles = profiles.map((p) => p.name);
      const major = Number(/^(\d+)\./.exec(resource.version)?.[1] ?? 0);
      if (major < 7)
        result.problems.push(
          `RouterOS ${resource.version || '(unknown)'} is older than 7: upgrade the router`,
        );
      if (!tls)
        result.warnings.push(
          'The plain API sends the password unencrypted: enable api-ssl and use port 8729',
        );
      if (tls && !input.caPem && !input.fingerprintSha256) {
        result.warnings.push(
          "No CA or fingerprint is pinned: the router's certificate must be trusted by this server's system CAs",
        );
      }
      // Only worth a warning where WireGuard is sold: a PPP-only router needs no interface.
      const wgProducts = await this.wireGuardProducts();
      if (wgInterfaces.length === 0 && wgProducts.length) {
        result.warnings.push(
          `No WireGuard interface on this router: the WireGuard products (${wgProducts.join(', ')}) cannot create accounts here until one exists (/interface/wireguard add name=wg-vpn listen-port=13231)`,
        );
      }
      for (const iface of wgInterfaces.filter((i) => i.disabled || !i.running)) {
        result.warnings.push(`WireGuard interface "${iface.name}" is not running: its peers pass no traffic`);
      }
      for (const profile of profiles.filter((p) => p.onlyOne === 'yes')) {
        result.warnings.push(
          `PPP profile "${profile.name}" has only-one=yes: RouterOS itself refuses a second login of the same user, as the product setting One session per account does one collection later`,
        );
      }
      for (const profile of profiles.filter((p) => p.rateLimit)) {
        result.warnings.push(
          `PPP profile "${profile.name}" has rate-limit ${profile.rateLimit}: its dynamic queues take traffic before ours, so a product using it would be metered as zero`,
        );
      }
      const catchAll = queues.find(
        (q) => !q.dynamic && !q.disabled && /(^|,)0\.0\.0\.0\/0(,|$)/.test(q.target),
      );
      if (catchAll) {
        result.warnings.push(
          `Simple queue "${catchAll.name}" targets 0.0.0.0/0: queues for VPN accounts must sit above it, or they will count nothing`,
        );
      }
      result.ok = result.problems.length === 0;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      result.errorCode = error.code;
      result.problems.push(ADVICE[error.code]?.(input, port) ?? error.message);
    } finally {
      await this.pool.close(target.id);
    }
    if (result.ok && existing) {
      await this.db
        .getRepository(RouterEntity)
        .update(
          { id: existing.id },
          { identity: result.identity, version: result.version, lastSeenAt: new Date() },
        );
    }
    await this.events.record(ctx, {
      action: 'router.test',
      result: result.ok ? 'OK' : 'FAILED',
      routerId: existing?.id ?? null,
      message: result.ok ? `${result.identity} ${result.version}` : result.problems.join(' ').slice(0, 1000),
    });
    return result;
  }

  /** Names of the products set to WireGuard (for the warning above). */
  private async wireGuardProducts(): Promise<string[]> {
    const rows: { name: string; service: string | null }[] = await this.db.query(
      `SELECT name, ${`configoption${settingIndex('service')}`} AS service FROM tblproducts WHERE servertype = ?`,
      [MODULE_NAME],
    );
    return rows.filter((r) => (r.service ?? '').trim() === 'wireguard').map((r) => r.name);
  }
}
