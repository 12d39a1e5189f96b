/**
 * The createVpnAccount call the tests make, in one place: the mutation, and its input with the
 * defaults every test uses (the password and the monthly cycle).
 */
export const CREATE_VPN_ACCOUNT = `mutation($i: CreateVpnAccountInput!) { createVpnAccount(input: $i) { status address } }`;

export interface AccountInput {
  serviceId: number;
  serverId: number;
  productId: number;
  username: string;
  password?: string;
  billingCycle?: string;
}

/** The variables of {@link CREATE_VPN_ACCOUNT}. */
export function createAccountVariables(input: AccountInput): { i: Required<AccountInput> } {
  return { i: { password: 'Passw0rd!', billingCycle: 'Monthly', ...input } };
}
