import fs from 'node:fs';

/**
 * The server's whole configuration, read once from the environment at start and frozen.
 * This is the only module that reads `process.env`; everything else receives an AppConfig.
 * A missing or malformed setting raises a ConfigError naming it (main prints one line and exits).
 */
export interface AppConfig {
  readonly env: 'production' | 'development' | 'test';
  readonly host: string;
  readonly port: number;
  /**
   * The public listener for customers' browsers (the usage page in direct mode): CLIENT_PORT, on
   * CLIENT_HOST (default HOST). It serves /graphql only and accepts client tokens only; an API key
   * there is refused with FORBIDDEN. Null (the default) = no such listener: the client area goes
   * through WHMCS (the module's proxy) and the server stays on its private address.
   */
  readonly clientListener: { readonly host: string; readonly port: number } | null;
  readonly database: DatabaseConfig;
  /** Keys for encrypting router credentials at rest; the active one encrypts, all of them decrypt. */
  readonly encryption: { readonly activeKeyId: string; readonly keys: ReadonlyMap<string, Buffer> };
  /** IANA time zone in which days are counted (WHMCS's own), e.g. "Europe/Berlin". */
  readonly timeZone: string;
  readonly corsOrigins: readonly string[];
  readonly runMigrationsOnStart: boolean;
  /** Seconds between built-in collection runs; 0 turns the schedule off (WHMCS's cron hook still collects). */
  readonly collectIntervalSeconds: number;
  readonly introspection: boolean;
  /** Serve the offline GraphiQL page at /explorer (src/http/explorer.ts). */
  readonly explorer: boolean;
  readonly limits: {
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxComplexity: number;
    /** Lexical tokens in one document: parsing stops there, so a huge document costs little. */
    readonly maxTokens: number;
    readonly maxDirectives: number;
    /** Items in any one list argument, literal or variable. */
    readonly maxListItems: number;
  };
  /** Connect and per-command timeout for routers, and how many routers are read at once. */
  readonly router: { readonly timeoutMs: number; readonly maxConcurrent: number; readonly idleMs: number };
  /** Per-router circuit breaker: failures in a row that open it, and its full-jitter back-off bounds. */
  readonly routerBreaker: { readonly failures: number; readonly baseMs: number; readonly maxMs: number };
  /** Seconds between built-in reconcile passes (finishing PENDING actions, repairing drift); 0 = off. */
  readonly reconcileIntervalSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** GET /metrics (Prometheus); with a token, scrapers must send it as a Bearer token. */
  readonly metrics: { readonly enabled: boolean; readonly token: string | null };
  /** Webhook delivery (its own periodic job) and the SSRF exceptions. */
  readonly webhooks: {
    /** CIDRs, addresses or host names webhooks may reach although private/loopback (and over http). */
    readonly allowedTargets: readonly string[];
    /** Milliseconds between delivery passes of this process; 0 = this process does not deliver. */
    readonly intervalMs: number;
    readonly timeoutMs: number;
    /** First retry after about this long; doubles per attempt (with jitter) up to the maximum. */
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    /** A delivery is retried this long after its event, then given up and the endpoint marked failing. */
    readonly retryForSeconds: number;
  };
  /** How often a GraphQL subscription looks for new events (ms). */
  readonly eventsPollMs: number;
  /** Days published events (and their delivery log) are kept; subscriptions can resume that far back. */
  readonly eventsRetentionDays: number;
}

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  /**
   * A local MariaDB's Unix socket (DATABASE_URL `?socket=`, or DB_SOCKET): used instead of host and
   * port. A round trip over it costs the client about a third less CPU than over TCP.
   */
  readonly socketPath?: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`Configuration error: ${setting} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['production', 'development', 'test'], 'development');
  const isProduction = nodeEnv === 'production';
  return Object.freeze({
    env: nodeEnv,
    host: env.HOST?.trim() || '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    clientListener: clientListener(env),
    database: loadDatabaseConfig(env),
    encryption: loadEncryptionKeys(env),
    timeZone: timeZone(env, 'WHMCS_TIME_ZONE', 'UTC'),
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    runMigrationsOnStart: boolean(env, 'MIGRATIONS_RUN', true),
    collectIntervalSeconds: integer(env, 'COLLECT_INTERVAL_SECONDS', 300, 0, 86_400),
    introspection: boolean(env, 'GRAPHQL_INTROSPECTION', !isProduction),
    explorer: boolean(env, 'GRAPHQL_EXPLORER', !isProduction),
    limits: Object.freeze({
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 8, 2, 50),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 500),
      maxComplexity: integer(env, 'GRAPHQL_MAX_COMPLEXITY', 5000, 10, 1_000_000),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 2000, 100, 100_000),
      maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 20, 0, 1000),
      maxListItems: integer(env, 'GRAPHQL_MAX_LIST_ITEMS', 500, 1, 100_000),
    }),
    router: Object.freeze({
      timeoutMs: integer(env, 'ROUTER_TIMEOUT_MS', 10_000, 100, 600_000),
      maxConcurrent: integer(env, 'ROUTER_MAX_CONCURRENT', 8, 1, 256),
      idleMs: integer(env, 'ROUTER_IDLE_MS', 60_000, 1_000, 3_600_000),
    }),
    routerBreaker: Object.freeze({
      failures: integer(env, 'ROUTER_BREAKER_FAILURES', 3, 1, 1000),
      baseMs: integer(env, 'ROUTER_BREAKER_BASE_MS', 1000, 1, 3_600_000),
      maxMs: integer(env, 'ROUTER_BREAKER_MAX_MS', 300_000, 1, 86_400_000),
    }),
    reconcileIntervalSeconds: integer(env, 'RECONCILE_INTERVAL_SECONDS', 300, 0, 86_400),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'], 'info'),
    metrics: Object.freeze({
      enabled: boolean(env, 'METRICS_ENABLED', true),
      token: env.METRICS_TOKEN?.trim() || null,
    }),
    webhooks: Object.freeze({
      allowedTargets: webhookTargets(env, 'WEBHOOK_ALLOWED_TARGETS'),
      intervalMs: integer(env, 'WEBHOOK_INTERVAL_MS', 1000, 0, 3_600_000),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 30_000, 10, 86_400_000),
      retryMaxMs: integer(env, 'WEBHOOK_RETRY_MAX_MS', 3_600_000, 10, 86_400_000),
      retryForSeconds: integer(env, 'WEBHOOK_RETRY_FOR_SECONDS', 86_400, 1, 2_592_000),
    }),
    eventsPollMs: integer(env, 'EVENTS_POLL_MS', 1000, 50, 60_000),
    eventsRetentionDays: integer(env, 'EVENTS_RETENTION_DAYS', 30, 1, 3650),
  });
}

function clientListener(env: Env): AppConfig['clientListener'] {
  if (!env.CLIENT_PORT?.trim()) return null;
  const port = integer(env, 'CLIENT_PORT', 0, 0, 65535);
  const mainPort = integer(env, 'PORT', 4000, 0, 65535);
  if (port !== 0 && port === mainPort) {
    throw new ConfigError('CLIENT_PORT', `must differ from PORT (${mainPort}): it is a second listener`);
  }
  return Object.freeze({ host: env.CLIENT_HOST?.trim() || env.HOST?.trim() || '127.0.0.1', port });
}

/**
 * Database settings: DATABASE_URL (mysql://user:pass@host:port/db, or
 * mysql://user:pass@localhost/db?socket=/run/mysqld/mysqld.sock for a local MariaDB's Unix socket)
 * or DB_HOST, DB_PORT, DB_SOCKET, DB_USER, DB_PASSWORD, DB_NAME.
 */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a URL (expected mysql://user:password@host:3306/database)',
      );
    }
    if (!['mysql:', 'mariadb:'].includes(parsed.protocol)) {
      throw new ConfigError('DATABASE_URL', 'must start with mysql:// or mariadb://');
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!database)
      throw new ConfigError('DATABASE_URL', 'names no database (add /<database> after the host)');
    const port = parsed.port ? Number(parsed.port) : 3306;
    for (const name of parsed.searchParams.keys())
      if (name !== 'socket')
        throw new ConfigError(
          'DATABASE_URL',
          `has an unknown parameter "${name}" (the only one is ?socket=<path>)`,
        );
    return Object.freeze({
      host: parsed.hostname,
      port,
      socketPath: socketPath('DATABASE_URL', parsed.searchParams.get('socket')),
      user: decodeURIComponent(parsed.username) || 'root',
      password: decodeURIComponent(parsed.password),
      database,
    });
  }
  const database = env.DB_NAME?.trim();
  if (!database) throw new ConfigError('DATABASE_URL', 'is not set (nor DB_NAME): name the WHMCS database');
  return Object.freeze({
    host: env.DB_HOST?.trim() || '127.0.0.1',
    port: integer(env, 'DB_PORT', 3306, 1, 65535),
    socketPath: socketPath('DB_SOCKET', env.DB_SOCKET),
    user: env.DB_USER?.trim() || 'root',
    password: env.DB_PASSWORD ?? '',
    database,
  });
}

/** A Unix socket's path: absolute, or the setting is refused (a relative one depends on the cwd). */
function socketPath(setting: string, value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (!trimmed.startsWith('/'))
    throw new ConfigError(
      setting,
      `names a socket by a relative path ("${trimmed}"); give its absolute path`,
    );
  return trimmed;
}

/**
 * ENCRYPTION_KEY_FILE (preferred) or ENCRYPTION_KEY: one key per line, `<key id>:<base64 of 32 bytes>`.
 * The last line is the active key; earlier lines stay readable so keys can rotate.
 */
export function loadEncryptionKeys(env: Env = process.env): AppConfig['encryption'] {
  let text: string;
  let setting = 'ENCRYPTION_KEY_FILE';
  if (env.ENCRYPTION_KEY_FILE?.trim()) {
    try {
      text = fs.readFileSync(env.ENCRYPTION_KEY_FILE.trim(), 'utf8');
    } catch {
      throw new ConfigError('ENCRYPTION_KEY_FILE', `cannot be read (${env.ENCRYPTION_KEY_FILE.trim()})`);
    }
  } else if (env.ENCRYPTION_KEY?.trim()) {
    text = env.ENCRYPTION_KEY;
    setting = 'ENCRYPTION_KEY';
  } else {
    throw new ConfigError(
      'ENCRYPTION_KEY_FILE',
      'is not set (nor ENCRYPTION_KEY): create one with `npx whmcs-mikrotik-vpn keygen > /etc/whmcs-mikrotik-vpn.key`',
    );
  }
  const keys = new Map<string, Buffer>();
  let activeKeyId = '';
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/.exec(line);
    const key = match ? Buffer.from(match[2], 'base64') : undefined;
    if (!match || !key || key.length !== 32) {
      throw new ConfigError(setting, 'must hold lines of the form <key id>:<base64 of 32 random bytes>');
    }
    keys.set(match[1], key);
    activeKeyId = match[1];
  }
  if (!activeKeyId) throw new ConfigError(setting, 'holds no key');
  return Object.freeze({ activeKeyId, keys });
}

/** A comma-separated list of CIDRs (10.0.0.0/8, fd00::/8), addresses or host names. */
function webhookTargets(env: Env, name: string): readonly string[] {
  const items = (env[name] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const ip = /^[\d.]+$/.test(address) || address.includes(':');
    const okBits =
      bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (address.includes(':') ? 128 : 32));
    const okHost = /^[a-z0-9.-]+$/i.test(address);
    if (extra !== undefined || !okBits || (!ip && (bits !== undefined || !okHost))) {
      throw new ConfigError(
        name,
        `must list CIDRs, addresses or host names, comma-separated (got "${item}")`,
      );
    }
  }
  return Object.freeze(items);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
  }
  return raw as T;
}

function timeZone(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError(name, `is not an IANA time zone (got "${raw}", e.g. Europe/Berlin)`);
  }
  return raw;
}
