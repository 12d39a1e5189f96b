import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

/** The module folder the demo takes the customer's usage page and its English strings from. */
const MODULE_DIR = path.join(__dirname, '..', '..', '..', 'php-bridge', 'modules', 'servers', 'mikrotikvpn');

/** The module's English strings (lang/english.php: `$_LANG['key'] = '…';` lines). */
export function englishStrings(): Record<string, string> {
  const text = fs.readFileSync(path.join(MODULE_DIR, 'lang', 'english.php'), 'utf8');
  const strings: Record<string, string> = {};
  for (const m of text.matchAll(/^\$_LANG\['([^']+)'\]\s*=\s*'((?:[^'\\]|\\.)*)';/gm)) {
    strings[m[1]] = m[2].replace(/\\(['\\])/g, '$1');
  }
  return strings;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The demo's client-area preview: the same usage page the WHMCS module ships (js/usage.js), mounted
 * as the module mounts it, with a client token minted for that service through the API — what a
 * customer of the demo client would see on their service page in WHMCS.
 */
export function previewRoutes(options: {
  apiKey: string;
  clientId: number;
  services: { serviceId: number; username: string; product: string }[];
}): express.Router {
  const router = express.Router();
  const strings = englishStrings();
  const pageStrings = Object.fromEntries(
    Object.entries(strings).filter(
      ([k]) =>
        /^(usage_|kind_|topup_|cycle_name_)/.test(k) || ['unit_gb', 'unit_note', 'buy_traffic'].includes(k),
    ),
  );
  router.get('/demo/usage.js', (_req, res) => {
    res.type('text/javascript').send(fs.readFileSync(path.join(MODULE_DIR, 'js', 'usage.js')));
  });
  router.get('/demo', (_req, res) => {
    const items = options.services
      .map(
        (s) =>
          `<li><a href="/demo/client/${s.serviceId}">service ${s.serviceId}</a> — ${escapeHtml(s.username)} (${escapeHtml(s.product)})</li>`,
      )
      .join('');
    res.type('html').send(page('Demo client area', `<h1>The demo client's services</h1><ul>${items}</ul>`));
  });
  router.get('/demo/client/:serviceId', async (req, res, next) => {
    try {
      const serviceId = Number(req.params.serviceId);
      const service = options.services.find((s) => s.serviceId === serviceId);
      if (!service) {
        res.status(404).type('text').send('no such demo service');
        return;
      }
      const graphqlUrl = `${req.protocol}://${req.headers.host}/graphql`;
      const minted = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
        body: JSON.stringify({
          query:
            'mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token expiresAt } }',
          variables: { c: options.clientId, s: [serviceId] },
        }),
      });
      const body = (await minted.json()) as {
        data?: { mintClientToken: { token: string; expiresAt: string } };
      };
      if (!body.data) throw new Error('the demo could not mint a client token');
      const { token, expiresAt } = body.data.mintClientToken;
      const mount =
        `<div id="mvpn-usage" class="mvpn-usage" data-service-id="${serviceId}" data-graphql-url="${escapeHtml(graphqlUrl)}"` +
        ` data-token="${escapeHtml(token)}" data-token-expires="${escapeHtml(expiresAt)}" data-language="english" data-dir="ltr"` +
        ` data-strings="${escapeHtml(JSON.stringify(pageStrings))}"></div><script src="/demo/usage.js" defer></script>`;
      res
        .type('html')
        .send(
          page(
            `Service ${serviceId}`,
            `<h1>${escapeHtml(service.product)} — ${escapeHtml(service.username)}</h1><p><a href="/demo">All services</a></p>${mount}`,
          ),
        );
    } catch (error) {
      next(error);
    }
  });
  return router;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;background:#f3f4f6;color:#1f2937}main{max-width:1040px;margin:0 auto;padding:20px;background:#fff}</style>
</head><body><main>${body}</main></body></html>`;
}
