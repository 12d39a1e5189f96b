#!/usr/bin/env node
// First: an unsupported Node.js stops here with one line.
import '../runtime/require-supported-node';
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig, loadDatabaseConfig } from '../config/app-config';
import { createServices, type AppServices } from '../app-services';
import { systemContext } from '../context/request-context';
import { requireIdString } from '../common/validate';
import { CollectionFrequency } from '../services/traffic/traffic-types';
import { dataSourceOptions } from '../config/data-source-options';
import { ApiKeyService } from '../services/api-key.service';
import { generateKeyLine } from '../auth/secret-box';
import { AppError } from '../errors/app-errors';
import { KeyRotationService } from '../services/key-rotation.service';
import { RouterEntity } from '../entities/own/router.entity';
import { Progress } from './progress';
import { doctor } from './doctor';

const USAGE = `Usage: whmcs-mikrotik-vpn <command>

  migrate [--revert]                       apply pending migrations (or revert the last one)
  apikey create --name NAME --scope admin|read   create an API key and print it once
  apikey list                              list keys (never the keys themselves)
  apikey revoke --name NAME                revoke a key at once
  keygen [--id KEYID]                      print a new encryption key line for ENCRYPTION_KEY_FILE
  reconcile [--router ID]                  make the routers match the database; report what differed
  collect [--router ID] [--daily]          collect traffic now and print a line per router
  rotate-key                               re-encrypt every router credential under the key file's last key
  doctor [--whmcs-time-zone ZONE]          check database, migrations, keys, routers and time zones;
         [--module-config FILE | --browser-url URL]
                                           and how customers' browsers reach the usage page (the
                                           module's config.php, or its direct-mode browser URL)

In a terminal, collect, reconcile and rotate-key show a progress line on stderr.

The database comes from DATABASE_URL (or DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME).`;

async function withDatabase<T>(work: (db: DataSource) => Promise<T>): Promise<T> {
  const db = new DataSource(dataSourceOptions(loadDatabaseConfig()));
  await db.initialize();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** The server's services, for commands that talk to routers (needs the encryption key too). */
async function withServices<T>(work: (services: AppServices) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = new DataSource(dataSourceOptions(config.database));
  await db.initialize();
  const services = createServices(config, db);
  try {
    return await work(services);
  } finally {
    await services.routerPool.closeAll();
    await services.locks.close();
    await db.destroy();
  }
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      revert: { type: 'boolean' },
      id: { type: 'string' },
      router: { type: 'string' },
      daily: { type: 'boolean' },
      'whmcs-time-zone': { type: 'string' },
      'module-config': { type: 'string' },
      'browser-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'migrate':
      return withDatabase(async (db) => {
        if (values.revert) {
          await db.undoLastMigration({ transaction: 'each' });
          console.log('reverted the last migration');
        } else {
          const applied = await db.runMigrations({ transaction: 'each' });
          console.log(
            applied.length ? applied.map((m) => `applied ${m.name}`).join('\n') : 'no pending migrations',
          );
        }
        return 0;
      });
    case 'apikey':
      return withDatabase(async (db) => {
        const keys = new ApiKeyService(db);
        if (sub === 'create') {
          const { key, record } = await keys.create(values.name ?? '', values.scope ?? 'admin');
          console.error(`Created ${record.scope} key "${record.name}". It is shown once; store it now:`);
          console.log(key);
          return 0;
        }
        if (sub === 'list') {
          for (const k of await keys.list()) {
            const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
            const used = k.lastUsedAt ? k.lastUsedAt.toISOString() : 'never';
            console.log(`${k.name}\t${k.scope}\t${k.keyPrefix}…\t${state}\tlast used ${used}`);
          }
          return 0;
        }
        if (sub === 'revoke') {
          await keys.revoke(values.name ?? '');
          console.log(`revoked "${values.name}"`);
          return 0;
        }
        console.error(USAGE);
        return 2;
      });
    case 'reconcile':
      return withServices(async (services) => {
        const ctx = systemContext('cli');
        const routerId = values.router === undefined ? undefined : requireIdString('router', values.router);
        const progress = new Progress();
        let printed = 0;
        const report = await services.reconcile.reconcile(ctx, routerId, (sofar, routersTotal) => {
          const state = { routersDone: sofar.routersChecked, routersTotal, accounts: sofar.accountsChecked };
          // Each router's findings as soon as it is done, above the progress line.
          for (const a of sofar.actions.slice(printed)) progress.above(actionLine(a), state, console.log);
          printed = sofar.actions.length;
          progress.update(state);
        });
        for (const a of report.actions.slice(printed)) console.log(actionLine(a));
        progress.finish();
        console.log(
          `checked ${report.accountsChecked} accounts on ${report.routersChecked} routers; repaired ${report.repaired}`,
        );
        return report.actions.some((a) => a.kind === 'ROUTER_FAILED') ? 1 : 0;
      });
    case 'collect':
      return withServices(async (services) => {
        const ctx = systemContext('cli');
        const routerId = values.router === undefined ? undefined : requireIdString('router', values.router);
        const routersTotal = await services.db
          .getRepository(RouterEntity)
          .count(routerId === undefined ? {} : { where: { id: routerId } });
        const progress = new Progress();
        const state = { routersDone: 0, routersTotal, accounts: 0 };
        progress.update(state, true);
        const report = await services.collector.collect(ctx, {
          routerId,
          frequency: values.daily ? CollectionFrequency.DAILY : undefined,
          onRouterDone: (r) => {
            state.routersDone++;
            state.accounts += r.accounts;
            const result = r.skipped
              ? 'skipped (another process)'
              : r.ok
                ? 'ok'
                : `FAILED ${r.errorCode}: ${r.error}`;
            progress.above(
              `router ${r.routerId}\t${result}\taccounts ${r.accounts}\tsamples ${r.samples}\t${r.durationMs} ms`,
              state,
              console.log,
            );
          },
        });
        progress.finish();
        console.log(
          `collected ${report.accountsCollected} accounts, ${report.samplesWritten} samples, limited ${report.limited.length}, in ${report.durationMs} ms`,
        );
        return report.routers.some((r) => !r.ok) ? 1 : 0;
      });
    case 'rotate-key':
      return withServices(async (services) => {
        const rotation = new KeyRotationService(services.db, services.secretBox);
        const progress = new Progress();
        const report = await rotation.rotate((done, total) =>
          progress.interactive
            ? progress.update({ routersDone: done, routersTotal: total, unit: 'credentials' })
            : console.log(`re-encrypted ${done}/${total}`),
        );
        progress.finish();
        for (const u of report.unreadable) {
          console.log(`${u.what}\tkey ${u.keyId} is not in the key file: cannot re-encrypt`);
        }
        console.log(
          `re-encrypted ${report.rotated} of ${report.total} stored credentials (router passwords, WireGuard keys, webhook secrets) under key ${report.activeKeyId} in ${report.durationMs} ms` +
            (report.changedMeanwhile ? `; ${report.changedMeanwhile} changed meanwhile` : ''),
        );
        if (report.remaining) {
          console.log(
            `${report.remaining} credential(s) are still under another key: ${report.unreadable.length ? "add their key line back, or enter those routers' passwords again in WHMCS (WireGuard accounts: New keys); " : ''}run rotate-key again`,
          );
          return 1;
        }
        console.log('every credential is under the active key; older key lines may now be removed');
        return 0;
      });
    case 'doctor':
      return doctor({
        whmcsTimeZone: values['whmcs-time-zone'],
        moduleConfig: values['module-config'],
        browserUrl: values['browser-url'],
      });
    case 'keygen':
      console.log(generateKeyLine(values.id));
      return 0;
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

function actionLine(a: { routerId: string; serviceId: number | null; kind: string; detail: string }) {
  return `router ${a.routerId}\t${a.serviceId ?? '-'}\t${a.kind}\t${a.detail}`;
}

run(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error) => {
    if (error instanceof ConfigError || error instanceof AppError) console.error(error.message);
    else console.error(`Failed: ${(error as Error).message}`);
    process.exit(1);
  });
