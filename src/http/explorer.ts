import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

/**
 * A GraphiQL page at /explorer that works without the internet: GraphiQL 3 and React 18 are served
 * from node_modules under /explorer/static/, and the page's Content-Security-Policy lets the browser
 * load nothing from anywhere else (Apollo Sandbox, by contrast, is loaded from Apollo's site).
 */
export interface ExplorerOptions {
  /** The GraphQL endpoint the page talks to. */
  endpoint: string;
  /** Pre-filled `Authorization: Bearer <key>` header: the demo's key, never set in a real deployment. */
  apiKey?: string;
}

/** The example the page opens with: what the server knows and what the routers say right now. */
export const EXPLORER_DEFAULT_QUERY = `# Routers, accounts with their live session and traffic.
# Press the play button (or Ctrl-Enter) to run it.
{
  routers {
    name
    host
    status { reachable identity version uptimeSeconds }
    addressPool { total used free }
  }
  vpnAccounts(first: 20) {
    nodes {
      serviceId
      username
      status
      address
      connection { online uptimeSeconds }
      traffic { usedThisCycleBytes balanceBytes unlimited }
    }
  }
}
`;

const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** The only files the page loads: name under /explorer/static/ → file and content type. */
const ASSETS = new Map<string, { file: () => string; type: string }>(
  Object.entries({
    'graphiql.min.css': {
      file: () => path.join(packageDir('graphiql'), 'graphiql.min.css'),
      type: 'text/css',
    },
    'graphiql.min.js': {
      file: () => path.join(packageDir('graphiql'), 'graphiql.min.js'),
      type: 'text/javascript',
    },
    // graphiql.min.js names its source map so (fetched only when the browser's developer tools are open).
    'index.umd.js.map': {
      file: () => path.join(packageDir('graphiql'), 'graphiql.min.js.map'),
      type: 'application/json',
    },
    'react.production.min.js': {
      file: () => path.join(packageDir('react'), 'umd', 'react.production.min.js'),
      type: 'text/javascript',
    },
    'react-dom.production.min.js': {
      file: () => path.join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'),
      type: 'text/javascript',
    },
  }),
);

/** Starts GraphiQL with the settings the page carries in a JSON block (no inline script: the CSP forbids it). */
const BOOT_SCRIPT = `(function () {
  var settings = JSON.parse(document.getElementById('explorer-settings').textContent);
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.defaultQuery,
      defaultHeaders: settings.defaultHeaders,
      defaultEditorToolsVisibility: settings.defaultHeaders ? 'headers' : true,
      shouldPersistHeaders: false,
    }),
  );
})();
`;

/** Nothing but this server: scripts, styles, fetches. GraphiQL's fonts are data: URLs in its CSS. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(options: ExplorerOptions): string {
  const settings = {
    endpoint: options.endpoint,
    defaultQuery: EXPLORER_DEFAULT_QUERY,
    defaultHeaders: options.apiKey
      ? JSON.stringify({ Authorization: `Bearer ${options.apiKey}` }, null, 2)
      : undefined,
  };
  // `<` escaped so that nothing in the JSON can close the script element.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>whmcs-mikrotik-vpn · GraphQL explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/explorer/static/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<script id="explorer-settings" type="application/json">${json}</script>
<script src="/explorer/static/react.production.min.js"></script>
<script src="/explorer/static/react-dom.production.min.js"></script>
<script src="/explorer/static/graphiql.min.js"></script>
<script src="/explorer/static/explorer.js"></script>
</body>
</html>
`;
}

/** Routes for /explorer and its assets; mount with `app.use(explorerRouter(...))`. */
export function explorerRouter(options: ExplorerOptions): express.Router {
  const router = express.Router();
  const html = page(options);
  router.get('/', (_req, res) => void res.redirect('/explorer'));
  router.get('/explorer', (_req, res) => {
    // The demo key is in the page: never cache it anywhere.
    res.set({ 'content-security-policy': CSP, 'cache-control': 'no-store' }).type('html').send(html);
  });
  router.get('/explorer/static/explorer.js', (_req, res) => {
    res.type('text/javascript').send(BOOT_SCRIPT);
  });
  router.get('/explorer/static/:name', (req, res) => {
    const asset = ASSETS.get(req.params.name);
    if (!asset) return void res.status(404).type('text/plain').send('not found');
    res.set('cache-control', 'public, max-age=3600').type(asset.type);
    fs.createReadStream(asset.file())
      .on('error', () => void res.status(500).end())
      .pipe(res);
  });
  return router;
}
