import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { DataSource } from 'typeorm';
import { loadConfig, loadDatabaseConfig, type AppConfig } from '../config/app-config';
import { dataSourceOptions } from '../config/data-source-options';
import { createServices } from '../app-services';
import { systemContext } from '../context/request-context';
import { RouterEntity } from '../entities/own/router.entity';
import { KeyRotationService } from '../services/key-rotation.service';
import { utcOffsetMs } from '../common/time-zone';

type Level = 'ok' | 'warn' | 'FAIL';

/** Prints one line per finding; counts problems (FAIL) and warnings. */
class Findings {
  problems = 0;
  warnings = 0;
  constructor(private readonly print: (line: string) => void) {}

  add(level: Level, what: string, text: string, fix?: string): void {
    if (level === 'FAIL') this.problems++;
    if (level === 'warn') this.warnings++;
    this.print(`${level.padEnd(4)}  ${what}: ${text}${fix ? ` — fix: ${fix}` : ''}`);
  }
}

export interface DoctorOptions {
  /** WHMCS's PHP time zone (date.timezone), when this host has no php-cli to ask. */
  whmcsTimeZone?: string;
  /**
   * The module's config.php (read with php-cli): its client_area_mode and, in direct mode, the
   * browser_graphql_url customers' browsers call.
   */
  moduleConfig?: string;
  /** The direct mode's browser URL itself, when WHMCS's config.php is on another host. */
  browserUrl?: string;
}

/**
 * Checks what a working installation needs and says what to fix: the database and its migrations,
 * the encryption keys, every router (login, TLS pin, RouterOS version), and that WHMCS, MariaDB,
 * WHMCS_TIME_ZONE and this server agree on the time zone. Returns the exit code (1 on any problem).
 */
export async function doctor(options: DoctorOptions, print = console.log): Promise<number> {
  const findings = new Findings(print);
  const dbConfig = loadDatabaseConfig();
  const where = `${dbConfig.socketPath ?? `${dbConfig.host}:${dbConfig.port}`}/${dbConfig.database}`;
  const db = new DataSource(dataSourceOptions(dbConfig));
  try {
    await db.initialize();
  } catch (error) {
    findings.add(
      'FAIL',
      'database',
      `cannot connect to ${where} as ${dbConfig.user} (${(error as Error).message})`,
      'check DATABASE_URL (or DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME) and that MariaDB is running and reachable',
    );
    return summary(findings, print);
  }
  try {
    const [{ version }]: { version: string }[] = await db.query('SELECT VERSION() AS version');
    findings.add('ok', 'database', `${where} answers (${version})`);
    const pending = await pendingMigrations(db);
    if (pending.length) {
      findings.add(
        'FAIL',
        'migrations',
        `${pending.length} not applied (${pending.join(', ')})`,
        'run `npx whmcs-mikrotik-vpn migrate`, or start the server with MIGRATIONS_RUN=true',
      );
      return summary(findings, print);
    }
    findings.add('ok', 'migrations', `all ${db.migrations.length} applied`);

    let config: AppConfig;
    try {
      config = loadConfig();
    } catch (error) {
      findings.add(
        'FAIL',
        'configuration',
        (error as Error).message,
        'see docs/operations.md, "Environment"',
      );
      return summary(findings, print);
    }
    const services = createServices(config, db);
    try {
      await checkKeys(
        findings,
        new KeyRotationService(db, services.secretBox),
        services.secretBox.activeKeyId,
      );
      await checkRouters(findings, services);
      await checkRouterSide(findings, db);
      await checkProducts(findings, services);
      await checkClientArea(findings, config, options);
      await checkTimeZones(findings, db, config.timeZone, options.whmcsTimeZone);
    } finally {
      await services.routerPool.closeAll();
      await services.locks.close();
    }
  } finally {
    await db.destroy();
  }
  return summary(findings, print);
}

function summary(findings: Findings, print: (line: string) => void): number {
  print(
    findings.problems
      ? `${findings.problems} problem(s), ${findings.warnings} warning(s): fix the FAIL lines above`
      : `no problems${findings.warnings ? `, ${findings.warnings} warning(s)` : ''}`,
  );
  return findings.problems ? 1 : 0;
}

async function pendingMigrations(db: DataSource): Promise<string[]> {
  const applied = new Set(
    (
      (await db.query('SELECT name FROM mod_mikrotikvpn_migrations').catch(() => [])) as { name: string }[]
    ).map((r) => r.name),
  );
  return db.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
}

async function checkKeys(findings: Findings, rotation: KeyRotationService, activeKeyId: string) {
  const usage = await rotation.usage();
  const stale = [...usage].filter(([keyId]) => keyId !== activeKeyId);
  if (!stale.length) {
    findings.add(
      'ok',
      'encryption',
      `${usage.get(activeKeyId) ?? 0} router credential(s), all under the active key ${activeKeyId}`,
    );
    return;
  }
  for (const [keyId, count] of stale) {
    findings.add(
      'warn',
      'encryption',
      `${count} router credential(s) still under key ${keyId}, not the active key ${activeKeyId}`,
      'run `npx whmcs-mikrotik-vpn rotate-key`, and keep that key line until it reports nothing left',
    );
  }
}

async function checkRouters(findings: Findings, services: ReturnType<typeof createServices>) {
  const routers = await services.db.getRepository(RouterEntity).find({ order: { id: 'ASC' } });
  if (!routers.length) {
    findings.add(
      'warn',
      'routers',
      'none configured',
      'add a server of type MikroTik VPN in WHMCS and save its router',
    );
    return;
  }
  const ctx = systemContext('doctor');
  for (const router of routers) {
    const what = `router ${router.id} "${router.name}" ${router.host}:${router.port}`;
    const keyId = services.secretBox.keyIdOf(router.passwordEncrypted);
    if (!services.secretBox.hasKey(keyId)) {
      findings.add(
        'FAIL',
        what,
        `its password is encrypted under key ${keyId}, which is not in the key file`,
        'put that key line back into ENCRYPTION_KEY_FILE, or enter the router password again in WHMCS (Servers)',
      );
      continue;
    }
    // Test Connection, exactly as the WHMCS button runs it (login, TLS pin, version, profiles, queues).
    const result = await services.routerCheck.test(ctx, {
      serverId: router.serverId,
      host: router.host,
      port: router.port,
      tls: router.tls,
      username: router.username,
      caPem: router.caPem ?? undefined,
      fingerprintSha256: router.fingerprintSha256 ?? undefined,
    });
    if (!result.ok) {
      findings.add('FAIL', what, result.errorCode ?? 'check failed', result.problems.join(' '));
      continue;
    }
    const pin = !router.tls
      ? 'plain API'
      : router.caPem
        ? 'TLS, CA pinned'
        : router.fingerprintSha256
          ? 'TLS, fingerprint pinned'
          : 'TLS';
    findings.add('ok', what, `logged in to ${result.identity} (RouterOS ${result.version}), ${pin}`);
    for (const warning of result.warnings) findings.add('warn', what, warning);
  }
}

/**
 * What the routers could not take (a product's profile missing on the router, say) and removals a
 * move left on a router that was away: enforcement never waits for them, but the admin should know.
 */
async function checkRouterSide(findings: Findings, db: DataSource) {
  const problems: { service_id: number; router_id: number; router_problem: string }[] = await db.query(
    `SELECT service_id, router_id, router_problem FROM mod_mikrotikvpn_accounts
      WHERE router_problem IS NOT NULL AND status <> 'TERMINATED' ORDER BY service_id LIMIT 6`,
  );
  for (const p of problems.slice(0, 5)) {
    findings.add(
      'warn',
      `service ${p.service_id}`,
      `router ${p.router_id} did not take: ${p.router_problem}`,
      'fix the product setting or the router (e.g. create the PPP profile), then run reconcile',
    );
  }
  if (problems.length > 5)
    findings.add('warn', 'accounts', 'more accounts have router problems (see reconcile)');
  const [removals] = await db.query(
    'SELECT COUNT(*) AS n, MIN(created_at) AS since FROM mod_mikrotikvpn_router_removals',
  );
  if (Number(removals.n) > 0) {
    findings.add(
      'warn',
      'moves',
      `${removals.n} account(s) moved away still have objects on their old router (since ${new Date(removals.since).toISOString()})`,
      'bring the old router back online: reconcile bills what they counted and removes them',
    );
  }
}

/** Products whose module settings cannot be read: Create would refuse them (a WireGuard Endpoint that is not host:port, say). */
async function checkProducts(findings: Findings, services: ReturnType<typeof createServices>) {
  for (const product of await services.products.list()) {
    const { invalid, invalidReasons } = product.settings;
    if (!invalid.length) continue;
    findings.add(
      'warn',
      `product ${product.id} "${product.name}"`,
      `malformed module settings: ${invalid.map((k) => (invalidReasons[k] ? `${k} (${invalidReasons[k]})` : k)).join(', ')}`,
      'open the product in WHMCS (Module Settings), correct the setting and save',
    );
  }
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('0.0.0.0', 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addAddress('::', 'ipv6');

/** True for a host only this machine reaches: 127.0.0.0/8, ::1, localhost (and *.localhost), 0.0.0.0. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = net.isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** The module's config.php as PHP reads it (its values, never printed). Null when it can not be read. */
function readModuleConfig(file: string): Record<string, unknown> | null {
  try {
    const out = execFileSync(
      'php',
      ['-r', '$c = include $argv[1]; echo json_encode(is_array($c) ? $c : null);', file],
      { timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    const parsed: unknown = JSON.parse(out);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * How customers' browsers reach the usage page's data. Through WHMCS (proxy mode, the default)
 * nothing is published. In direct mode the browser calls browser_graphql_url: a loopback address
 * there, or one that does not answer, leaves every customer's page empty; and without CLIENT_PORT
 * the published endpoint would be the one that takes admin keys.
 */
async function checkClientArea(findings: Findings, config: AppConfig, options: DoctorOptions) {
  let url = options.browserUrl?.trim() ?? '';
  if (!url && options.moduleConfig) {
    const module = readModuleConfig(options.moduleConfig);
    if (!module) {
      findings.add(
        'warn',
        'client area',
        `cannot read the module's ${options.moduleConfig} (with php-cli)`,
        "give the file's path on this host, or --browser-url with its browser_graphql_url",
      );
      return;
    }
    if (module.client_area_mode !== 'direct') {
      findings.add(
        'ok',
        'client area',
        "the usage page goes through WHMCS (proxy mode): customers' browsers never call this server",
      );
      return;
    }
    url = String(module.browser_graphql_url || module.graphql_url || '');
  }
  if (!url) return; // nothing said about the module: nothing to check
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    findings.add('warn', 'client area', `direct mode: the browser URL "${url}" is not a URL`);
    return;
  }
  const fix =
    'publish CLIENT_PORT through the web server (docs/whmcs-setup.md, "Direct mode") and set browser_graphql_url to that public URL, or remove client_area_mode from config.php so the page goes through WHMCS';
  if (isLoopbackHost(parsed.hostname)) {
    findings.add(
      'warn',
      'client area',
      `direct mode: the browser URL ${url} is a loopback address; no customer's browser reaches it`,
      fix,
    );
    return;
  }
  const answered = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query":"{ __typename }"}',
    signal: AbortSignal.timeout(5000),
  }).then(
    () => true,
    () => false,
  );
  if (!answered) {
    findings.add('warn', 'client area', `direct mode: the browser URL ${url} does not answer from here`, fix);
    return;
  }
  if (!config.clientListener) {
    findings.add(
      'warn',
      'client area',
      `direct mode: ${url} answers, but CLIENT_PORT is not set, so what is published there is the listener that takes admin keys`,
      'set CLIENT_PORT (a listener for client tokens only) and point the reverse proxy at it',
    );
    return;
  }
  findings.add('ok', 'client area', `direct mode: the browser URL ${url} answers`);
}

/** Minutes east of UTC of a zone at an instant. */
export function offsetMinutes(timeZone: string, at = new Date()): number {
  return Math.round(utcOffsetMs(timeZone, at.getTime()) / 60_000);
}

function utc(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** WHMCS runs in PHP's date.timezone: ask the local php-cli when no zone was given. */
function phpTimeZone(): string | null {
  try {
    const zone = execFileSync('php', ['-r', 'echo date_default_timezone_get();'], {
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return zone || null;
  } catch {
    return null;
  }
}

async function checkTimeZones(findings: Findings, db: DataSource, configured: string, given?: string) {
  const now = new Date();
  const configuredOffset = offsetMinutes(configured, now);
  const whmcs = given ?? phpTimeZone();
  if (!whmcs) {
    findings.add(
      'warn',
      'time zone',
      "cannot tell WHMCS's time zone (no php-cli on this host)",
      "run doctor with --whmcs-time-zone <WHMCS's php.ini date.timezone>",
    );
  } else {
    let whmcsOffset: number | null = null;
    try {
      whmcsOffset = offsetMinutes(whmcs, now);
    } catch {
      findings.add(
        'FAIL',
        'time zone',
        `"${whmcs}" is not an IANA time zone`,
        "give WHMCS's date.timezone, e.g. Europe/Berlin",
      );
    }
    if (whmcsOffset !== null && whmcs !== configured) {
      findings.add(
        whmcsOffset === configuredOffset ? 'warn' : 'FAIL',
        'time zone',
        `WHMCS runs in ${whmcs} (${utc(whmcsOffset)}) but WHMCS_TIME_ZONE is ${configured} (${utc(configuredOffset)}): traffic days would not be WHMCS's days`,
        `set WHMCS_TIME_ZONE=${whmcs} in the server's environment and restart it`,
      );
    } else if (whmcsOffset !== null) {
      findings.add('ok', 'time zone', `WHMCS and WHMCS_TIME_ZONE are both ${configured}`);
    }
  }
  const [row]: { global: string; system: string; offsetMinutes: string | number }[] = await db.query(
    'SELECT @@global.time_zone AS global, @@system_time_zone AS system, TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW()) AS offsetMinutes',
  );
  const dbZone = row.global === 'SYSTEM' ? `SYSTEM (${row.system})` : row.global;
  const dbOffset = Number(row.offsetMinutes);
  if (dbOffset !== configuredOffset) {
    findings.add(
      'FAIL',
      'time zone',
      `MariaDB's NOW() runs in ${dbZone}, ${utc(dbOffset)}, but WHMCS_TIME_ZONE ${configured} is ${utc(configuredOffset)}: WHMCS writes local times with both`,
      `set default_time_zone = '${configured}' under [mysqld] (load zone names first: mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql) or the database host's time zone, then restart MariaDB`,
    );
  } else {
    findings.add('ok', 'time zone', `MariaDB runs in ${dbZone}, ${utc(dbOffset)}, as WHMCS_TIME_ZONE does`);
  }
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const ownOffset = offsetMinutes(own, now);
  if (ownOffset !== configuredOffset) {
    findings.add(
      'warn',
      'time zone',
      `this server runs in ${own} (${utc(ownOffset)}); days are still counted in ${configured}, but local times in system logs will differ`,
      `timedatectl set-timezone ${configured} (or Environment=TZ=${configured} in the systemd unit)`,
    );
  } else {
    findings.add('ok', 'time zone', `this server runs in ${own} (${utc(ownOffset)})`);
  }
}
