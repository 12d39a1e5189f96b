/**
 * THE one place that turns router-side directions into the customer's perspective.
 *
 * - A simple queue writes every pair as `upload/download` (`bytes=UP/DOWN`, `max-limit=UP/DOWN`),
 *   where upload is traffic FROM the target (the customer) and download traffic TO it.
 * - On interfaces and in PPP `rate-limit`, rx is what the router received from the client: the
 *   customer's upload; tx is the customer's download.
 *
 * Everything above this module (API, UI, database) speaks download = traffic to the customer.
 */

/** A download/upload pair in the customer's perspective. */
export interface CustomerPair {
  download: bigint;
  upload: bigint;
}

/** Parses a queue pair (`"UP/DOWN"`, plain integers as RouterOS prints them) into the customer's view. */
export function queuePairToCustomer(text: string): CustomerPair {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`not a RouterOS upload/download pair: ${JSON.stringify(text)}`);
  return { upload: BigInt(match[1]), download: BigInt(match[2]) };
}

/** Writes a customer pair in the queue's `upload/download` order (e.g. for `max-limit`). */
export function customerToQueuePair(pair: { download: bigint | number; upload: bigint | number }): string {
  return `${BigInt(pair.upload)}/${BigInt(pair.download)}`;
}

/** Router-side rx/tx (interface counters, `rate-limit` rx/tx) into the customer's view. */
export function rxTxToCustomer(counters: { rx: bigint; tx: bigint }): CustomerPair {
  return { upload: counters.rx, download: counters.tx };
}

/** The customer's view back into router-side rx/tx order (e.g. a profile `rate-limit` of `rx/tx`). */
export function customerToRxTx(pair: { download: bigint | number; upload: bigint | number }): string {
  return `${BigInt(pair.upload)}/${BigInt(pair.download)}`;
}
