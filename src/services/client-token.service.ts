import type { DataSource } from 'typeorm';
import { ClientTokenRevocationEntity } from '../entities/own/client-token-revocation.entity';
import { CLIENT_TOKEN_ID, MAX_CLIENT_TOKEN_TTL_SECONDS, type ClientTokenClaims } from '../auth/client-tokens';
import { actorName, type RequestContext } from '../context/request-context';
import { ValidationError } from '../errors/app-errors';
import type { EventService } from './event.service';

/** Why a well-signed, unexpired token is refused anyway. */
export type ClientTokenStanding = 'ok' | 'revoked' | 'owner-changed';

/** Revocation rows are kept this long past the token's own expiry (clocks of several servers differ). */
const PRUNE_AFTER_EXPIRY = 'INTERVAL 1 HOUR';

/**
 * What the signature of a client token cannot know: whether it was revoked, and whether WHMCS still
 * has each of its services under the token's client (a service moved to another client in WHMCS must
 * not stay readable by the old one until the token expires).
 */
export class ClientTokenService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventService,
  ) {}

  /** One SQL statement per request, whatever the request reads. */
  async standing(claims: ClientTokenClaims): Promise<ClientTokenStanding> {
    const ids = [...new Set(claims.serviceIds)];
    const [row] = (await this.db.query(
      `SELECT
         EXISTS(SELECT 1 FROM mod_mikrotikvpn_client_token_revocations WHERE token_id = ?) AS revoked,
         (SELECT COUNT(*) FROM tblhosting WHERE id IN (${ids.map(() => '?').join(', ')}) AND userid = ?) AS owned`,
      [claims.tokenId, ...ids, claims.clientId],
    )) as { revoked: number | string; owned: number | string }[];
    if (Number(row.revoked)) return 'revoked';
    if (Number(row.owned) !== ids.length) return 'owner-changed';
    return 'ok';
  }

  /**
   * Revokes one token, by its id or by the token itself (whose signature is checked, so that its
   * expiry and client are known). Revoking twice is a success. Without the token, the row is kept as
   * long as any token could live.
   */
  async revoke(
    ctx: RequestContext,
    target: { tokenId: string; claims?: ClientTokenClaims },
  ): Promise<ClientTokenRevocationEntity> {
    const { tokenId, claims } = target;
    if (!CLIENT_TOKEN_ID.test(tokenId)) {
      throw new ValidationError('A client token id is 22 characters of letters, digits, - and _');
    }
    const repo = this.db.getRepository(ClientTokenRevocationEntity);
    const expiresAt = claims?.expiresAt ?? new Date(Date.now() + MAX_CLIENT_TOKEN_TTL_SECONDS * 1000);
    await this.db.query(
      `INSERT IGNORE INTO mod_mikrotikvpn_client_token_revocations
         (token_id, client_id, expires_at, revoked_at, revoked_by) VALUES (?, ?, ?, UTC_TIMESTAMP(3), ?)`,
      [tokenId, claims?.clientId ?? null, expiresAt, actorName(ctx.actor).slice(0, 128)],
    );
    await this.db.query(
      `DELETE FROM mod_mikrotikvpn_client_token_revocations WHERE expires_at < UTC_TIMESTAMP(3) - ${PRUNE_AFTER_EXPIRY}`,
    );
    await this.events.record(ctx, {
      action: 'client-token.revoke',
      result: 'OK',
      message: `client token ${tokenId}${claims ? ` of client ${claims.clientId}` : ''} revoked`,
    });
    return (
      (await repo.findOneBy({ tokenId })) ??
      // Already past its expiry (and pruned at once): revoked all the same.
      repo.create({
        tokenId,
        clientId: claims?.clientId ?? null,
        expiresAt,
        revokedAt: new Date(),
        revokedBy: actorName(ctx.actor),
      })
    );
  }
}
