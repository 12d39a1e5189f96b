import type {
  ActiveSession,
  PppSecret,
  PppSecretSpec,
  PppService,
  SimpleQueue,
  SimpleQueueSpec,
  WireGuardPeer,
  WireGuardPeerSpec,
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
  /** A PPP secret, or a WireGuard peer; the queue is the same for both. */
  protocol: 'ppp' | 'wireguard';
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
  /** WireGuard: the peer (interface, keys); null for PPP accounts. */
  peer: { interface: string; publicKey: string; presharedKey: string } | null;
  /** RouterOS id of our peer as last seen (also of a PPP account that was WireGuard before). */
  peerRosId: string | null;
  /** The account's WireGuard public key, kept while a peer of it may be on the router. */
  peerPublicKey: string | null;
}

/** What the router holds for the account. */
export interface ObservedAccount {
  /** The secret named like the account, else the one with its stored id; null when neither exists. */
  secret: PppSecret | null;
  /** The queue named like the account's, else the one with its stored id. */
  queue: SimpleQueue | null;
  /** Live sessions of the account's user name. */
  sessions: readonly ActiveSession[];
  /** The peer with the account's public key, else the one with its stored id; null when neither. */
  peer: WireGuardPeer | null;
}

export type RouterStep =
  | { kind: 'disable-secret'; secretId: string }
  | { kind: 'end-sessions'; username: string; reason: 'enforcement' | 'reconnect' }
  | { kind: 'enable-secret'; secretId: string }
  | { kind: 'add-secret'; spec: Omit<PppSecretSpec, 'password'> }
  | { kind: 'update-secret'; secretId: string; patch: Partial<PppSecretSpec>; changes: string[] }
  | { kind: 'add-queue'; spec: SimpleQueueSpec }
  | { kind: 'update-queue'; queueId: string; patch: Partial<SimpleQueueSpec>; changes: string[] }
  | { kind: 'remove-secret'; secretId: string }
  | { kind: 'disable-peer'; peerId: string }
  | { kind: 'enable-peer'; peerId: string }
  | { kind: 'add-peer'; spec: WireGuardPeerSpec }
  | { kind: 'update-peer'; peerId: string; patch: Partial<WireGuardPeerSpec>; changes: string[] }
  | { kind: 'remove-peer'; peerId: string };

export interface RouterPlan {
  /** Objects with the account's names that are not ours: left untouched, reported. */
  conflicts: string[];
  /** Disable and end sessions: run first, and a failure here is the action's failure. */
  enforcement: RouterStep[];
  /** Everything else: each step on its own, a failure reported and retried. */
  steps: RouterStep[];
  /** Ids of the observed objects that are ours (null: none seen, or not ours): what to remember. */
  owned: { secretId: string | null; queueId: string | null; peerId: string | null };
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
  if (want.protocol === 'wireguard') planPeer(want, have, conflicts, enforcement, steps);
  else planSecret(want, have, options, conflicts, enforcement, steps);
  planQueue(want, have, conflicts, steps);
  const ours = <T extends { id: string; comment: string | null }>(
    object: T | null,
    storedId: string | null,
  ) => (object && isOurs(object, storedId, want.ownComments) ? object.id : null);
  return {
    conflicts,
    enforcement,
    steps,
    owned: {
      secretId: ours(have.secret, want.secretRosId),
      queueId: ours(have.queue, want.queueRosId),
      peerId: peerIsOurs(want, have.peer) ? have.peer!.id : null,
    },
  };
}

/** A peer is ours by its stored id, a comment we wrote, or the account's own public key. */
function peerIsOurs(want: DesiredAccount, peer: WireGuardPeer | null): boolean {
  return (
    peer !== null &&
    ((want.peerPublicKey !== null && peer.publicKey === want.peerPublicKey) ||
      isOurs(peer, want.peerRosId, want.ownComments))
  );
}

/**
 * A PPP account: its secret and sessions. A peer left from when the account was WireGuard is
 * removed first (it would let the customer in by the other door).
 */
function planSecret(
  want: DesiredAccount,
  have: ObservedAccount,
  options: PlanOptions,
  conflicts: string[],
  enforcement: RouterStep[],
  steps: RouterStep[],
): void {
  if (peerIsOurs(want, have.peer)) enforcement.push({ kind: 'remove-peer', peerId: have.peer!.id });
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
  if (
    want.disabled &&
    (secretOurs || !secret) &&
    (have.sessions.length || enforcement.some((s) => s.kind === 'disable-secret'))
  ) {
    enforcement.push({ kind: 'end-sessions', username: want.username, reason: 'enforcement' });
  }
}

/**
 * A WireGuard account: its peer. Disabling the peer is the whole of enforcement (traffic stops at
 * once; there is no session to end), sent with nothing but the id. A PPP secret left from when
 * the account was PPP is cut off and removed.
 */
function planPeer(
  want: DesiredAccount,
  have: ObservedAccount,
  conflicts: string[],
  enforcement: RouterStep[],
  steps: RouterStep[],
): void {
  const wg = want.peer!;
  const secret = have.secret;
  if (secret && isOurs(secret, want.secretRosId, want.ownComments)) {
    if (!secret.disabled) enforcement.push({ kind: 'disable-secret', secretId: secret.id });
    if (have.sessions.length)
      enforcement.push({ kind: 'end-sessions', username: want.username, reason: 'enforcement' });
    steps.push({ kind: 'remove-secret', secretId: secret.id });
  }
  // Our public key is ours whatever the comment says; a peer found only by a stale id is not.
  const peer = peerIsOurs(want, have.peer) ? have.peer : null;
  if (!peer) {
    steps.push({
      kind: 'add-peer',
      spec: {
        interface: wg.interface,
        publicKey: wg.publicKey,
        presharedKey: wg.presharedKey,
        address: want.address,
        comment: want.comment,
        disabled: want.disabled,
      },
    });
    return;
  }
  if (want.disabled && !peer.disabled) enforcement.push({ kind: 'disable-peer', peerId: peer.id });
  if (!want.disabled && peer.disabled) steps.push({ kind: 'enable-peer', peerId: peer.id });
  const patch: Partial<WireGuardPeerSpec> = {};
  const changes: string[] = [];
  if (peer.interface !== wg.interface) {
    patch.interface = wg.interface;
    changes.push(`interface ${peer.interface || '-'} → ${wg.interface}`);
  }
  if (peer.publicKey !== wg.publicKey) {
    patch.publicKey = wg.publicKey;
    changes.push('public-key replaced');
  }
  // A router that prints the preshared key is compared; one that hides it is trusted.
  if (peer.presharedKey !== null && peer.presharedKey !== wg.presharedKey) {
    patch.presharedKey = wg.presharedKey;
    changes.push('preshared-key replaced');
  }
  if (peer.allowedAddress.replace(/\s/g, '') !== `${want.address}/32`) {
    patch.address = want.address;
    changes.push(`allowed-address ${peer.allowedAddress || '-'} → ${want.address}/32`);
  }
  if ((peer.comment ?? '') !== want.comment) {
    patch.comment = want.comment;
    changes.push(`comment ${peer.comment || '-'} → ${want.comment}`);
  }
  if (changes.length) steps.push({ kind: 'update-peer', peerId: peer.id, patch, changes });
}

/** The simple queue that meters and limits the account, whatever its protocol. */
function planQueue(
  want: DesiredAccount,
  have: ObservedAccount,
  conflicts: string[],
  steps: RouterStep[],
): void {
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
