import type {
  ActiveSession,
  PppSecret,
  PppSecretSpec,
  PppService,
  SimpleQueue,
  SimpleQueueSpec,
} from '../../router';
import { addressInTarget } from './queue-order';

/**
 * THE plan that makes a router match the database, for one account: a pure function from what the
 * account should look like and what the router holds now to the router steps that close the gap.
 * Lifecycle actions and reconcile both run it, so they can never disagree.
 *
 * Enforcement — disabling the secret and ending the live sessions of a suspended or used-up account
 * — is planned apart and sends only what it needs (the secret's id): a profile renamed on the router,
 * a service that is refused, a changed comment prefix can never keep a customer online. Everything
 * else is planned as separate steps whose failure is reported and retried.
 */

/** What one account should look like on its router (from desired-state.ts). */
export interface DesiredAccount {
  username: string;
  /** The account's fixed address (secret remote-address, queue target). */
  address: string;
  /** The secret is disabled (suspended or used up). */
  disabled: boolean;
  profile: string;
  service: PppService;
  /** The comment written on our secret and queue now. */
  comment: string;
  /** Every comment our objects may carry (the current one and those of earlier prefixes). */
  ownComments: readonly string[];
  /** RouterOS ids of our secret and queue as last seen (ours whatever their comment). */
  secretRosId: string | null;
  queueRosId: string | null;
  queueName: string;
  maxLimit: { downloadBps: bigint; uploadBps: bigint };
}

/** What the router holds for the account. */
export interface ObservedAccount {
  /** The secret named like the account, else the one with its stored id; null when neither exists. */
  secret: PppSecret | null;
  /** The queue named like the account's, else the one with its stored id. */
  queue: SimpleQueue | null;
  /** Live sessions of the account's user name. */
  sessions: readonly ActiveSession[];
}

export type RouterStep =
  | { kind: 'disable-secret'; secretId: string }
  | { kind: 'end-sessions'; username: string; reason: 'enforcement' | 'reconnect' }
  | { kind: 'enable-secret'; secretId: string }
  | { kind: 'add-secret'; spec: Omit<PppSecretSpec, 'password'> }
  | { kind: 'update-secret'; secretId: string; patch: Partial<PppSecretSpec>; changes: string[] }
  | { kind: 'add-queue'; spec: SimpleQueueSpec }
  | { kind: 'update-queue'; queueId: string; patch: Partial<SimpleQueueSpec>; changes: string[] };

export interface RouterPlan {
  /** Objects with the account's names that are not ours: left untouched, reported. */
  conflicts: string[];
  /** Disable and end sessions: run first, and a failure here is the action's failure. */
  enforcement: RouterStep[];
  /** Everything else: each step on its own, a failure reported and retried. */
  steps: RouterStep[];
}

export interface PlanOptions {
  /** A password to set (create, change password): the secret is updated even if nothing else differs. */
  setPassword?: boolean;
  /** End a live session when its profile or service changes, so that they apply (Change Package). */
  reconnectOnProfileChange?: boolean;
}

/** True when the router object is ours: its stored id, or a comment we wrote. */
export function isOurs(
  object: { id: string; comment: string | null },
  storedId: string | null,
  ownComments: readonly string[],
): boolean {
  return (storedId !== null && object.id === storedId) || ownComments.includes(object.comment ?? '');
}

export function planAccount(
  want: DesiredAccount,
  have: ObservedAccount,
  options: PlanOptions = {},
): RouterPlan {
  const conflicts: string[] = [];
  const enforcement: RouterStep[] = [];
  const steps: RouterStep[] = [];
  const secret = have.secret;
  const secretOurs = secret !== null && isOurs(secret, want.secretRosId, want.ownComments);

  if (secret && !secretOurs) {
    conflicts.push(
      `a PPP secret named ${secret.name} exists and does not belong to this service (comment "${secret.comment ?? ''}", ours is "${want.comment}"); left untouched: remove it, or set its comment if it is ours`,
    );
  } else if (!secret) {
    steps.push({ kind: 'add-secret', spec: secretSpecOf(want) });
  } else {
    if (want.disabled && !secret.disabled) enforcement.push({ kind: 'disable-secret', secretId: secret.id });
    if (!want.disabled && secret.disabled) steps.push({ kind: 'enable-secret', secretId: secret.id });
    const patch: Partial<PppSecretSpec> = {};
    const changes: string[] = [];
    const differ = <K extends keyof PppSecretSpec>(
      key: K,
      label: string,
      before: string | null,
      after: PppSecretSpec[K],
    ) => {
      if ((before ?? '') === (after ?? '')) return;
      patch[key] = after;
      changes.push(`${label} ${before || '-'} → ${after || '-'}`);
    };
    differ('name', 'name', secret.name, want.username);
    differ('service', 'service', secret.service, want.service);
    differ('profile', 'profile', secret.profile, want.profile);
    differ('remoteAddress', 'remote-address', secret.remoteAddress, want.address);
    differ('comment', 'comment', secret.comment, want.comment);
    if (changes.length || options.setPassword) {
      steps.push({ kind: 'update-secret', secretId: secret.id, patch, changes });
    }
    const profileChanged = patch.profile !== undefined || patch.service !== undefined;
    if (options.reconnectOnProfileChange && profileChanged && !want.disabled && have.sessions.length) {
      steps.push({ kind: 'end-sessions', username: want.username, reason: 'reconnect' });
    }
  }
  // A disabled secret does not end a live session: end it — also when the secret is gone (deleted
  // by hand while the customer was online). A secret that is not ours is not our customer's.
  if (want.disabled && (secretOurs || !secret) && (have.sessions.length || enforcement.length)) {
    enforcement.push({ kind: 'end-sessions', username: want.username, reason: 'enforcement' });
  }

  const queue = have.queue;
  if (queue && !isOurs(queue, want.queueRosId, want.ownComments)) {
    conflicts.push(
      `a simple queue named ${queue.name} exists and does not belong to this service (comment "${queue.comment ?? ''}", ours is "${want.comment}"); left untouched`,
    );
  } else if (!queue) {
    steps.push({ kind: 'add-queue', spec: queueSpecOf(want) });
  } else {
    const patch: Partial<SimpleQueueSpec> = {};
    const changes: string[] = [];
    if (queue.name !== want.queueName) {
      patch.name = want.queueName;
      changes.push(`name ${queue.name} → ${want.queueName}`);
    }
    if (!addressInTarget(want.address, queue.target) || queue.target.includes(',')) {
      patch.address = want.address;
      changes.push(`target ${queue.target || '-'} → ${want.address}/32`);
    }
    if (
      BigInt(queue.maxLimit.downloadBps) !== want.maxLimit.downloadBps ||
      BigInt(queue.maxLimit.uploadBps) !== want.maxLimit.uploadBps
    ) {
      patch.maxLimit = want.maxLimit;
      changes.push(
        `max-limit (download/upload) ${queue.maxLimit.downloadBps}/${queue.maxLimit.uploadBps} → ${want.maxLimit.downloadBps}/${want.maxLimit.uploadBps}`,
      );
    }
    if ((queue.comment ?? '') !== want.comment) {
      patch.comment = want.comment;
      changes.push(`comment ${queue.comment || '-'} → ${want.comment}`);
    }
    if (queue.disabled) {
      // A disabled queue neither limits nor counts: the traffic would go unbilled.
      patch.disabled = false;
      changes.push('disabled → enabled');
    }
    if (changes.length) steps.push({ kind: 'update-queue', queueId: queue.id, patch, changes });
  }
  return { conflicts, enforcement, steps };
}

function secretSpecOf(want: DesiredAccount): Omit<PppSecretSpec, 'password'> {
  return {
    name: want.username,
    service: want.service,
    profile: want.profile,
    remoteAddress: want.address,
    comment: want.comment,
    disabled: want.disabled,
  };
}

function queueSpecOf(want: DesiredAccount): SimpleQueueSpec {
  return {
    name: want.queueName,
    address: want.address,
    maxLimit: want.maxLimit,
    comment: want.comment,
  };
}
