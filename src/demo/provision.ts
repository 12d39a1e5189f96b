import { randomBytes } from 'node:crypto';
import { gbToBytes } from '../common/units';
import type { DemoSeed } from './demo-database';
import type { DemoRouter } from './simulated-routers';

/** One GraphQL operation over HTTP with the demo's admin key, as WHMCS's module sends them. */
async function call(
  url: string,
  apiKey: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<unknown> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

/**
 * Does through the public API what an admin and WHMCS would: adds each router (api-ssl, its CA pinned),
 * creates every service's VPN account, and credits the bought traffic addon.
 */
export async function provisionThroughApi(
  url: string,
  apiKey: string,
  seed: DemoSeed,
  routers: DemoRouter[],
): Promise<{ wireGuardPublicKey: string; wireGuardConfig: string }> {
  for (const [index, { serverId, services }] of seed.routers.entries()) {
    const { sim, username, password } = routers[index];
    await call(url, apiKey, `mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }`, {
      input: { serverId, host: sim.host, port: sim.port, tls: true, username, password, caPem: sim.caPem },
    });
    for (const service of services) {
      await call(
        url,
        apiKey,
        `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { serviceId } }`,
        {
          input: {
            serviceId: service.serviceId,
            serverId,
            productId: seed.productId,
            username: service.username,
            // The customer's PPP password: never stored by the server; the simulated client does not need it.
            password: randomBytes(9).toString('base64url'),
            billingCycle: 'Monthly',
          },
        },
      );
    }
  }
  const wg = seed.wireGuard;
  const created = (await call(
    url,
    apiKey,
    `mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { wireguard { publicKey } wireGuardConfig { text } } }`,
    {
      input: {
        serviceId: wg.serviceId,
        serverId: seed.routers[0].serverId,
        productId: wg.productId,
        username: wg.username,
        // WHMCS sends a password; a WireGuard account has keys instead (made by the server).
        password: randomBytes(9).toString('base64url'),
        billingCycle: 'Monthly',
      },
    },
  )) as { createVpnAccount: { wireguard: { publicKey: string }; wireGuardConfig: { text: string } } };
  const { addon } = seed;
  await call(url, apiKey, `mutation($input: TopUpTrafficInput!) { topUpTraffic(input: $input) { id } }`, {
    input: {
      serviceId: addon.serviceId,
      bytes: gbToBytes(addon.gb).toString(),
      // The key the WHMCS module uses for an addon activated without an invoice.
      idempotencyKey: `addon:${addon.hostingAddonId}:activation:${addon.regdate}`,
      description: addon.name,
      kind: 'ADDON',
    },
  });
  return {
    wireGuardPublicKey: created.createVpnAccount.wireguard.publicKey,
    wireGuardConfig: created.createVpnAccount.wireGuardConfig.text,
  };
}
