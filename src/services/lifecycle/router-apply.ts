import { RouterTrapError, type RouterGateway, type RouterTarget } from '../../router';
import { ConflictError } from '../../errors/app-errors';
import { placeholderPassword } from './desired-state';
import type { RouterPlan, RouterStep } from './router-plan';

export interface ApplyResult {
  /** What was changed: the step and, in words, what it did (event log, reconcile report). */
  done: { step: RouterStep; detail: string }[];
  /** Steps the router refused (a missing profile, say): reported and retried, never fatal. */
  problems: string[];
  /** The objects' RouterOS ids after the plan (new ones when they were added). */
  secretRosId: string | null;
  queueRosId: string | null;
  peerRosId: string | null;
  /** The secret was re-created without the customer's password (a placeholder was set). */
  passwordReset: boolean;
  /** Sessions that were ended. */
  sessionsEnded: number;
}

export interface ApplyOptions {
  /** The customer's password, when the caller has it (create, change password). */
  password?: string;
  /** Every step must succeed (create): a refused step fails the call instead of being reported. */
  strict?: boolean;
  secretRosId: string | null;
  queueRosId: string | null;
  peerRosId: string | null;
}

const PEERS = '/interface/wireguard/peers';

/**
 * Runs a plan on the router. Enforcement first, step by step, and any failure there is the caller's
 * failure: a suspended or used-up customer is never reported as cut off while still online. The
 * other steps each run on their own; one the router refuses (a `!trap`) is collected as a problem
 * and the rest go on, while a router that cannot be reached fails the call (nothing more can be
 * done now; the account stays PENDING and is finished later).
 */
export async function applyPlan(
  gateway: RouterGateway,
  target: RouterTarget,
  plan: RouterPlan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const result: ApplyResult = {
    done: [],
    problems: [],
    secretRosId: options.secretRosId,
    queueRosId: options.queueRosId,
    peerRosId: options.peerRosId,
    passwordReset: false,
    sessionsEnded: 0,
  };
  for (const step of plan.enforcement) await runStep(gateway, target, step, options, result);
  // A new password is what the caller asked for: set on its own (nothing else in the command can
  // make it fail), and its failure is the caller's.
  const update = plan.steps.find((s) => s.kind === 'update-secret');
  if (options.password !== undefined && update?.kind === 'update-secret') {
    if (await gateway.setPppSecretById(target, update.secretId, { password: options.password }))
      done(result, update, 'password set');
  }
  for (const step of plan.steps) {
    try {
      await runStep(gateway, target, step, options, result);
    } catch (error) {
      if (error instanceof ConflictError && !options.strict) {
        result.problems.push(error.message);
        continue;
      }
      if (!(error instanceof RouterTrapError) || options.strict) throw error;
      // One refused field (a profile the router does not have) must not hold back the others:
      // they are applied one by one, and each refusal is reported on its own.
      const parts = splitUpdate(step);
      if (parts.length < 2) {
        result.problems.push(`${describe(step)}: ${error.routerMessage}`);
        continue;
      }
      for (const part of parts) {
        try {
          await runStep(gateway, target, part, options, result);
        } catch (partError) {
          if (!(partError instanceof RouterTrapError)) throw partError;
          result.problems.push(`${describe(part)}: ${partError.routerMessage}`);
        }
      }
    }
  }
  return result;
}

async function runStep(
  gateway: RouterGateway,
  target: RouterTarget,
  step: RouterStep,
  options: ApplyOptions,
  result: ApplyResult,
): Promise<void> {
  switch (step.kind) {
    case 'disable-secret':
      // Only the id: no other field can make the disable fail.
      if (await gateway.onItem(target, '/ppp/secret', step.secretId, 'disable'))
        done(result, step, 'enabled → disabled');
      return;
    case 'end-sessions': {
      const ended = await gateway.kick(target, step.username);
      result.sessionsEnded += ended;
      if (ended) {
        done(
          result,
          step,
          step.reason === 'reconnect' ? 'reconnected for the new profile' : `${ended} session(s) ended`,
        );
      }
      return;
    }
    case 'enable-secret':
      if (await gateway.onItem(target, '/ppp/secret', step.secretId, 'enable'))
        done(result, step, 'disabled → enabled');
      return;
    case 'add-secret': {
      const password = options.password ?? placeholderPassword();
      result.secretRosId = (await gateway.addPppSecret(target, { ...step.spec, password })) || null;
      result.passwordReset = options.password === undefined;
      done(
        result,
        step,
        options.password ? 'secret created' : 'secret re-created (password must be set again)',
      );
      return;
    }
    case 'update-secret':
      result.secretRosId = step.secretId;
      if (step.changes.length && (await gateway.setPppSecretById(target, step.secretId, step.patch)))
        done(result, step, `secret: ${step.changes.join(', ')}`);
      return;
    case 'add-queue':
      result.queueRosId = (await gateway.addSimpleQueue(target, step.spec)) || null;
      done(result, step, `queue ${step.spec.name} created`);
      return;
    case 'update-queue':
      if (await gateway.setSimpleQueueById(target, step.queueId, step.patch)) {
        result.queueRosId = step.queueId;
        done(result, step, `queue: ${step.changes.join(', ')}`);
      }
      return;
    case 'remove-secret':
      if (await gateway.onItem(target, '/ppp/secret', step.secretId, 'remove'))
        done(result, step, 'PPP secret removed (the account is WireGuard now)');
      if (result.secretRosId === step.secretId) result.secretRosId = null;
      return;
    case 'disable-peer':
      // Only the id, as for a secret: traffic through the peer stops at once.
      if (await gateway.onItem(target, PEERS, step.peerId, 'disable'))
        done(result, step, 'peer enabled → disabled');
      return;
    case 'enable-peer':
      if (await gateway.onItem(target, PEERS, step.peerId, 'enable'))
        done(result, step, 'peer disabled → enabled');
      return;
    case 'add-peer':
      try {
        result.peerRosId = (await gateway.addWireGuardPeer(target, step.spec)) || null;
      } catch (error) {
        // The same public key, or an allowed-address another peer holds: not ours to overwrite.
        if (error instanceof RouterTrapError && /already exists|overlap/i.test(error.routerMessage)) {
          throw new ConflictError(
            `Router ${target.id} refused the WireGuard peer for ${step.spec.address}/32 on ${step.spec.interface}: ${error.routerMessage}`,
          );
        }
        throw error;
      }
      done(result, step, `peer on ${step.spec.interface} created`);
      return;
    case 'update-peer':
      result.peerRosId = step.peerId;
      if (await gateway.setWireGuardPeerById(target, step.peerId, step.patch))
        done(result, step, `peer: ${step.changes.join(', ')}`);
      return;
    case 'remove-peer':
      if (await gateway.onItem(target, PEERS, step.peerId, 'remove'))
        done(result, step, 'WireGuard peer removed (the account is PPP now)');
      if (result.peerRosId === step.peerId) result.peerRosId = null;
      return;
  }
}

/** An update of several fields as one update per field (after the router refused the whole). */
function splitUpdate(step: RouterStep): RouterStep[] {
  if (step.kind !== 'update-secret' && step.kind !== 'update-queue' && step.kind !== 'update-peer')
    return [step];
  const keys = Object.keys(step.patch) as (keyof typeof step.patch)[];
  return keys.map((key, i) => ({
    ...step,
    patch: { [key]: step.patch[key] },
    changes: [keys.length === step.changes.length ? step.changes[i] : String(key)],
  })) as RouterStep[];
}

function done(result: ApplyResult, step: RouterStep, detail: string) {
  result.done.push({ step, detail });
}

function describe(step: RouterStep): string {
  switch (step.kind) {
    case 'update-secret':
      return `secret not updated (${step.changes.join(', ')})`;
    case 'update-queue':
      return `queue not updated (${step.changes.join(', ')})`;
    case 'add-secret':
      return `secret ${step.spec.name} not created`;
    case 'add-queue':
      return `queue ${step.spec.name} not created`;
    case 'enable-secret':
      return 'secret not enabled';
    case 'update-peer':
      return `peer not updated (${step.changes.join(', ')})`;
    case 'add-peer':
      return `peer on ${step.spec.interface} not created`;
    case 'enable-peer':
      return 'peer not enabled';
    case 'remove-secret':
      return 'old PPP secret not removed';
    default:
      return step.kind;
  }
}
