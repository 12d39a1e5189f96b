import { expect } from 'chai';
import fc from 'fast-check';
import {
  planAccount,
  type DesiredAccount,
  type ObservedAccount,
  type RouterStep,
} from '../../src/services/lifecycle/router-plan';
import type { PppSecret, SimpleQueue, WireGuardPeer } from '../../src/router';

/**
 * The one plan that makes a router match the database (lifecycle and reconcile both run it), as
 * properties: applying a plan and planning again yields nothing to do; enforcement never depends
 * on the optional fields (profile, service, comment, speed); objects that are not ours are never
 * planned for. Accounts are PPP or WireGuard (a peer instead of a secret), and may have been the
 * other protocol before (its object is still on the router).
 */

const OUR_KEY = 'b'.repeat(42) + 'A=';
const OTHER_KEY = 'c'.repeat(42) + 'A=';
const PSK = 'p'.repeat(42) + 'A=';

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
const rosId = fc.integer({ min: 1, max: 0xffff }).map((n) => `*${n.toString(16).toUpperCase()}`);
const address = fc.integer({ min: 2, max: 250 }).map((n) => `10.9.0.${n}`);
const bits = fc.constantFrom(0n, 1_000_000n, 5_000_000n, 20_000_000n);

const desired: fc.Arbitrary<DesiredAccount> = fc
  .record({
    username: name,
    address,
    disabled: fc.boolean(),
    profile: fc.constantFrom('default', 'gold', 'silver'),
    service: fc.constantFrom('any', 'l2tp', 'sstp'),
    prefix: fc.constantFrom('WHMCS', 'VPN-', 'B'),
    oldPrefixes: fc.subarray(['OLD', 'X-', 'WHMCS']),
    secretRosId: fc.option(rosId, { nil: null }),
    queueRosId: fc.option(rosId, { nil: null }),
    peerRosId: fc.option(rosId, { nil: null }),
    protocol: fc.constantFrom('ppp' as const, 'wireguard' as const),
    down: bits,
    up: bits,
  })
  .map((d) => ({
    username: d.username,
    address: d.address,
    disabled: d.disabled,
    profile: d.profile,
    service: d.service as DesiredAccount['service'],
    comment: `${d.prefix}42`,
    ownComments: [...new Set([...d.oldPrefixes, d.prefix])].map((p) => `${p}42`),
    secretRosId: d.secretRosId,
    queueRosId: d.queueRosId,
    queueName: 'vpn-42',
    maxLimit: { downloadBps: d.down, uploadBps: d.up },
    protocol: d.protocol,
    peer: d.protocol === 'wireguard' ? { interface: 'wg-vpn', publicKey: OUR_KEY, presharedKey: PSK } : null,
    peerRosId: d.peerRosId,
    peerPublicKey: d.protocol === 'wireguard' || d.peerRosId ? OUR_KEY : null,
  }));

/** What the router may hold: our objects in any state of drift, foreign ones, or nothing. */
function observed(want: DesiredAccount): fc.Arbitrary<ObservedAccount> {
  const comment = fc.constantFrom(...want.ownComments, 'someone-else', null);
  const secret: fc.Arbitrary<PppSecret | null> = fc.option(
    fc.record({
      id: want.secretRosId ? fc.constantFrom(want.secretRosId, '*FFFF0') : fc.constant('*FFFF0'),
      name: fc.constantFrom(want.username, 'renamed'),
      service: fc.constantFrom('any', 'l2tp', 'sstp', 'pptp'),
      profile: fc.constantFrom('default', 'gold', 'missing'),
      remoteAddress: fc.constantFrom(want.address, '10.9.9.9', null),
      comment,
      disabled: fc.boolean(),
    }),
    { nil: null },
  );
  const queue: fc.Arbitrary<SimpleQueue | null> = fc.option(
    fc.record({
      id: want.queueRosId ? fc.constantFrom(want.queueRosId, '*FFFF1') : fc.constant('*FFFF1'),
      name: fc.constantFrom(want.queueName, 'renamed-queue'),
      target: fc.constantFrom(`${want.address}/32`, '10.9.9.9/32', ''),
      downloadBytes: fc.constant(0n),
      uploadBytes: fc.constant(0n),
      maxLimit: fc.record({ downloadBps: bits, uploadBps: bits }),
      comment,
      disabled: fc.boolean(),
      dynamic: fc.constant(false),
      parent: fc.constant('none'),
    }),
    { nil: null },
  );
  const peer: fc.Arbitrary<WireGuardPeer | null> = fc.option(
    fc.record({
      id: want.peerRosId ? fc.constantFrom(want.peerRosId, '*FFFF2') : fc.constant('*FFFF2'),
      interface: fc.constantFrom('wg-vpn', 'wg-old'),
      publicKey: fc.constantFrom(OUR_KEY, OTHER_KEY),
      presharedKey: fc.constantFrom(PSK, null, 'q'.repeat(42) + 'A='),
      allowedAddress: fc.constantFrom(`${want.address}/32`, '10.9.9.9/32'),
      comment,
      disabled: fc.boolean(),
      lastHandshakeSeconds: fc.option(fc.nat(600), { nil: null }),
      currentEndpoint: fc.constant(null),
      downloadBytes: fc.constant(0n),
      uploadBytes: fc.constant(0n),
    }),
    { nil: null },
  );
  return fc.record({
    secret,
    queue,
    peer,
    sessions: fc.array(
      fc.record({
        id: rosId,
        name: fc.constant(want.username),
        service: fc.constant('l2tp'),
        callerId: fc.constant('198.51.100.7'),
        address: fc.constant(want.address),
        uptimeSeconds: fc.nat(),
      }),
      { maxLength: 2 },
    ),
  });
}

/** The router after a plan: what each step does on RouterOS. */
function apply(have: ObservedAccount, steps: RouterStep[]): ObservedAccount {
  let { secret, queue, sessions, peer } = have;
  for (const step of steps) {
    switch (step.kind) {
      case 'remove-secret':
        secret = null;
        break;
      case 'remove-peer':
        peer = null;
        break;
      case 'disable-peer':
        peer = { ...peer!, disabled: true };
        break;
      case 'enable-peer':
        peer = { ...peer!, disabled: false };
        break;
      case 'add-peer':
        peer = {
          id: '*C0',
          interface: step.spec.interface,
          publicKey: step.spec.publicKey,
          presharedKey: step.spec.presharedKey,
          allowedAddress: `${step.spec.address}/32`,
          comment: step.spec.comment,
          disabled: step.spec.disabled,
          lastHandshakeSeconds: null,
          currentEndpoint: null,
          downloadBytes: 0n,
          uploadBytes: 0n,
        };
        break;
      case 'update-peer': {
        const p = step.patch;
        peer = {
          ...peer!,
          ...(p.interface !== undefined && { interface: p.interface }),
          ...(p.publicKey !== undefined && { publicKey: p.publicKey }),
          ...(p.presharedKey !== undefined && { presharedKey: p.presharedKey }),
          ...(p.address !== undefined && { allowedAddress: `${p.address}/32` }),
          ...(p.comment !== undefined && { comment: p.comment }),
        };
        break;
      }
      case 'disable-secret':
        secret = { ...secret!, disabled: true };
        break;
      case 'enable-secret':
        secret = { ...secret!, disabled: false };
        break;
      case 'end-sessions':
        sessions = [];
        break;
      case 'add-secret':
        secret = {
          id: '*A0',
          name: step.spec.name,
          service: step.spec.service ?? 'any',
          profile: step.spec.profile ?? 'default',
          remoteAddress: step.spec.remoteAddress ?? null,
          comment: step.spec.comment ?? null,
          disabled: step.spec.disabled ?? false,
        };
        break;
      case 'update-secret': {
        const p = step.patch;
        secret = {
          ...secret!,
          ...(p.name !== undefined && { name: p.name }),
          ...(p.service !== undefined && { service: p.service }),
          ...(p.profile !== undefined && { profile: p.profile }),
          ...(p.remoteAddress !== undefined && { remoteAddress: p.remoteAddress }),
          ...(p.comment !== undefined && { comment: p.comment }),
        };
        break;
      }
      case 'add-queue':
        queue = {
          id: '*B0',
          name: step.spec.name,
          target: `${step.spec.address}/32`,
          downloadBytes: 0n,
          uploadBytes: 0n,
          maxLimit: {
            downloadBps: BigInt(step.spec.maxLimit.downloadBps),
            uploadBps: BigInt(step.spec.maxLimit.uploadBps),
          },
          comment: step.spec.comment ?? null,
          disabled: false,
          dynamic: false,
          parent: 'none',
        };
        break;
      case 'update-queue': {
        const p = step.patch;
        queue = {
          ...queue!,
          ...(p.name !== undefined && { name: p.name }),
          ...(p.address !== undefined && { target: `${p.address}/32` }),
          ...(p.maxLimit !== undefined && {
            maxLimit: {
              downloadBps: BigInt(p.maxLimit.downloadBps),
              uploadBps: BigInt(p.maxLimit.uploadBps),
            },
          }),
          ...(p.comment !== undefined && { comment: p.comment }),
          ...(p.disabled !== undefined && { disabled: p.disabled }),
        };
        break;
      }
    }
  }
  // A new id is what the product stores after an add.
  return { secret, queue, sessions, peer };
}

const world = desired.chain((want) => fc.tuple(fc.constant(want), observed(want)));

describe('router plan: one path that makes a router match the database (properties)', () => {
  it('is idempotent: planning against the result of applying a plan yields no action', () => {
    fc.assert(
      fc.property(world, ([want, have]) => {
        const plan = planAccount(want, have);
        const after = apply(have, [...plan.enforcement, ...plan.steps]);
        // What the product stores: the ids of added objects, else of the observed ones that are ours.
        const added = (kind: RouterStep['kind']) => plan.steps.some((s) => s.kind === kind);
        const stored = {
          ...want,
          secretRosId: added('add-secret') ? after.secret!.id : (plan.owned.secretId ?? want.secretRosId),
          queueRosId: added('add-queue') ? after.queue!.id : (plan.owned.queueId ?? want.queueRosId),
          peerRosId: added('add-peer') ? after.peer!.id : (plan.owned.peerId ?? want.peerRosId),
        };
        const again = planAccount(plan.conflicts.length ? want : stored, after);
        expect(again.enforcement, JSON.stringify(again)).to.deep.equal([]);
        expect(again.steps, JSON.stringify(again)).to.deep.equal([]);
      }),
      { numRuns: 500 },
    );
  });

  it('cuts off a suspended or used-up account whatever its optional fields are, sending only ids', () => {
    fc.assert(
      fc.property(world, ([want, have]) => {
        const cutOff = { ...want, disabled: true };
        const plan = planAccount(cutOff, have);
        if (cutOff.protocol === 'wireguard') {
          // The peer is disabled by id alone; a secret left from PPP days is cut off and removed.
          const peerOurs =
            have.peer !== null &&
            (have.peer.publicKey === OUR_KEY ||
              have.peer.id === cutOff.peerRosId ||
              cutOff.ownComments.includes(have.peer.comment ?? ''));
          if (peerOurs && !have.peer!.disabled)
            expect(plan.enforcement).to.deep.include({ kind: 'disable-peer', peerId: have.peer!.id });
          if (!peerOurs)
            expect(plan.steps.find((s) => s.kind === 'add-peer')).to.have.nested.property(
              'spec.disabled',
              true,
            );
          const other = planAccount(
            { ...cutOff, maxLimit: { downloadBps: 7n, uploadBps: 7n }, comment: 'Z42' },
            have,
          );
          expect(other.enforcement).to.deep.equal(plan.enforcement);
          return;
        }
        const ours =
          have.secret !== null &&
          ((cutOff.secretRosId !== null && have.secret.id === cutOff.secretRosId) ||
            cutOff.ownComments.includes(have.secret.comment ?? ''));
        if (ours && !have.secret!.disabled) {
          expect(plan.enforcement).to.deep.include({ kind: 'disable-secret', secretId: have.secret!.id });
        }
        if ((ours || !have.secret) && have.sessions.length) {
          expect(plan.enforcement.map((s) => s.kind)).to.include('end-sessions');
        }
        // The same enforcement whatever the profile, service, speed or prefix asked for.
        const other = planAccount(
          { ...cutOff, profile: 'elsewhere', service: 'pptp', maxLimit: { downloadBps: 7n, uploadBps: 7n } },
          have,
        );
        expect(other.enforcement).to.deep.equal(plan.enforcement);
        for (const step of plan.enforcement) {
          if (step.kind === 'disable-secret') expect(Object.keys(step)).to.deep.equal(['kind', 'secretId']);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never plans anything for a secret or queue that is not ours', () => {
    fc.assert(
      fc.property(world, ([want, have]) => {
        const plan = planAccount(want, have);
        const steps = [...plan.enforcement, ...plan.steps];
        if (
          want.protocol === 'ppp' &&
          have.secret &&
          have.secret.id !== want.secretRosId &&
          !want.ownComments.includes(have.secret.comment ?? '')
        ) {
          expect(steps.filter((s) => s.kind.endsWith('-secret') || s.kind === 'end-sessions')).to.deep.equal(
            [],
          );
          expect(plan.conflicts.join(' ')).to.match(/PPP secret/);
        }
        if (
          have.queue &&
          have.queue.id !== want.queueRosId &&
          !want.ownComments.includes(have.queue.comment ?? '')
        ) {
          expect(steps.filter((s) => s.kind.endsWith('-queue'))).to.deep.equal([]);
        }
      }),
      { numRuns: 500 },
    );
  });
});
