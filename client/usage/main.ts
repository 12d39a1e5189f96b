/**
 * Entry of the usage bundle (built into php-bridge/modules/servers/mikrotikvpn/js/usage.js by
 * `npm run build:client`). Mounts the page on every element the bridge rendered:
 *
 *   <div id="mvpn-usage" data-service-id (data-proxy-url | data-graphql-url) data-token
 *        data-token-expires data-language data-dir data-strings [data-context="admin"]></div>
 *
 * data-proxy-url (the default, proxy mode): the module's own action on the WHMCS origin, which
 * forwards the page's operations to the server; data-graphql-url (direct mode): the server's public
 * client listener.
 */
import { injectStyles } from './styles';
import { UsageView, type MountOptions } from './view';

const RTL_LANGUAGES = ['arabic', 'farsi', 'hebrew'];

function readOptions(node: HTMLElement): MountOptions | null {
  const d = node.dataset;
  const serviceId = Number(d.serviceId);
  const url = d.proxyUrl || d.graphqlUrl;
  if (!Number.isInteger(serviceId) || serviceId <= 0 || !url || !d.token) return null;
  let strings: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(d.strings ?? '{}');
    if (parsed && typeof parsed === 'object') strings = parsed as Record<string, string>;
  } catch {
    strings = {};
  }
  const language = (d.language ?? 'english').toLowerCase();
  const dir = d.dir === 'rtl' || d.dir === 'ltr' ? d.dir : RTL_LANGUAGES.includes(language) ? 'rtl' : 'ltr';
  return {
    serviceId,
    graphqlUrl: url,
    mode: d.proxyUrl ? 'proxy' : 'direct',
    token: d.token,
    language,
    dir,
    strings,
    context: d.context === 'admin' ? 'admin' : 'client',
  };
}

function mountAll(): void {
  const nodes = document.querySelectorAll<HTMLElement>('#mvpn-usage, .mvpn-usage[data-service-id]');
  if (!nodes.length) return;
  injectStyles(document);
  nodes.forEach((node) => {
    if (node.dataset.mounted) return;
    const options = readOptions(node);
    if (!options) return;
    node.dataset.mounted = '1';
    void new UsageView(node, options).start();
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
else mountAll();
