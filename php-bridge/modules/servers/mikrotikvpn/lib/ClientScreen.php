<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The client area overview block and the usage page's mount point.
 */
class ClientScreen
{
    /** How many sessions "Recent connections" shows. */
    const RECENT_SESSIONS = 20;

    /** Client area: the overview block (WHMCS keeps its own billing information around it). */
    public static function clientArea(array $params): array
    {
        $clientId = (int) $params['userid'];
        $lang = Lang::forClient($clientId);
        $serviceId = (int) $params['serviceid'];
        $vars = self::clientAreaVars($params, $lang);
        return [
            'tabOverviewModuleOutputTemplate' => 'templates/clientarea.tpl',
            'templateVariables' => [
                'mvpn' => $vars,
                'mvpnLang' => $lang->all(),
                'mvpnDir' => $lang->dirAttr(),
                'mvpnLanguage' => $lang->language(),
                'mvpnServiceId' => $serviceId,
            ],
        ];
    }

    /** @return array<string,mixed> everything the client-area template shows, formatted */
    public static function clientAreaVars(array $params, Lang $lang): array
    {
        $serviceId = (int) $params['serviceid'];
        $protocolNames = ['l2tp' => 'L2TP/IPsec', 'pptp' => 'PPTP', 'sstp' => 'SSTP', 'ovpn' => 'OpenVPN', 'pppoe' => 'PPPoE'];
        $protocols = [];
        foreach (explode(',', Settings::value($params, 'protocols')) as $p) {
            $p = strtolower(trim($p));
            if ($p !== '') {
                $protocols[] = isset($protocolNames[$p]) ? $protocolNames[$p] : strtoupper($p);
            }
        }
        $psk = Settings::value($params, 'l2tpPsk');
        $serverAddress = trim((string) (isset($params['serverhostname']) ? $params['serverhostname'] : ''));
        if ($serverAddress === '') {
            $serverAddress = trim((string) (isset($params['serverip']) ? $params['serverip'] : ''));
        }
        $vars = [
            'serviceId' => $serviceId,
            'instructionsUrl' => self::safeLink(Settings::value($params, 'instructionsUrl')),
            'serverAddress' => $serverAddress,
            'protocols' => $protocols,
            'psk' => in_array('L2TP/IPsec', $protocols, true) ? $psk : '',
            'username' => (string) (isset($params['username']) ? $params['username'] : ''),
            'password' => (string) (isset($params['password']) ? $params['password'] : ''),
            'error' => '',
            'hasAccount' => false,
            'status' => '',
            'statusLabel' => '',
            'limited' => false,
            'throttled' => false,
            'suspended' => false,
            'online' => false,
            'connService' => '',
            'connAddress' => '',
            'connUptime' => '',
            'balance' => '',
            'balanceNegative' => false,
            // The part of the balance that is carried-over traffic, and until when ('' when none).
            'carriedOver' => '',
            'download' => '',
            'upload' => '',
            'allowance' => '',
            'thresholds' => '',
            'address' => '',
            'addons' => [],
            'cartUrl' => 'cart.php?a=add',
            'usage' => null,
            // Until the server says, the product's protocol setting decides which block shows.
            'wireguard' => Settings::value($params, 'service') === 'wireguard',
            'wg' => null,
            // Recent connections: not shown without an account, nor for WireGuard while it has no session log.
            'sessionsShown' => false,
            'sessions' => [],
            'sessionsNote' => '',
        ];
        $client = new GraphQLClient(null, $lang);
        // One operation (one request): the account and its last 20 sessions are two root fields of it.
        try {
            $data = $client->call('ClientArea',
                'query($s: Int!) { vpnAccount(serviceId: $s) { ' . Module::ACCOUNT_FIELDS . ' ' . Module::CONNECTION_FIELDS
                . ' ' . Module::WIREGUARD_FIELDS . ' ' . Module::WIREGUARD_CONFIG_FIELDS . ' ' . Module::THRESHOLD_FIELDS . ' timeZone }'
                . ' sessions(serviceId: $s, first: ' . self::RECENT_SESSIONS . ') { nodes { ' . SessionView::FIELDS . ' } } }',
                ['s' => $serviceId]);
            $account = $data['vpnAccount'];
        } catch (BridgeException $e) {
            $vars['error'] = $lang->t('unavailable');
            $account = null;
            $data = [];
        }
        if ($account) {
            $t = $account['traffic'];
            $bw = $account['bandwidth'] ?: ['downloadBitsPerSecond' => 0, 'uploadBitsPerSecond' => 0];
            $speed = function ($bits) use ($lang) {
                $mbps = Format::mbps($bits);
                return $mbps === null ? $lang->t('no_limit') : $mbps . ' ' . $lang->t('unit_mbps');
            };
            $conn = $account['connection'];
            $vars = array_merge($vars, [
                'hasAccount' => true,
                'username' => (string) $account['username'],
                'address' => (string) $account['address'],
                'status' => (string) $account['status'],
                'statusLabel' => $lang->t('status_' . $account['status']),
                'limited' => $account['status'] === 'LIMITED',
                'throttled' => $account['status'] === 'THROTTLED',
                'suspended' => $account['status'] === 'SUSPENDED',
                'online' => $conn && !empty($conn['online']),
                'connService' => $conn && $conn['service'] ? strtoupper((string) $conn['service']) : '',
                'connAddress' => $conn && $conn['address'] ? (string) $conn['address'] : '',
                'connUptime' => $conn && !empty($conn['online']) ? Format::uptime($conn['uptimeSeconds']) : '',
                'balance' => Format::gb($t['balanceBytes']) . ' ' . $lang->t('unit_gb'),
                'balanceNegative' => Format::int($t['balanceBytes']) <= 0 && empty($t['unlimited']),
                'carriedOver' => Format::carriedOver($t, isset($account['timeZone']) ? (string) $account['timeZone'] : '', $lang),
                'download' => $speed($bw['downloadBitsPerSecond']),
                'upload' => $speed($bw['uploadBitsPerSecond']),
                'allowance' => !empty($t['unlimited']) ? $lang->t('unlimited') : Format::gb($t['cycleAllowanceBytes']) . ' ' . $lang->t('unit_gb'),
                'wireguard' => isset($account['protocol']) && $account['protocol'] === 'WIREGUARD',
                // The low traffic thresholds reached this cycle, as the product writes them (80%, 1 GB).
                'thresholds' => implode(', ', array_map(function ($r) {
                    return (string) $r['threshold'];
                }, isset($account['thresholdsReached']) && is_array($account['thresholdsReached']) ? $account['thresholdsReached'] : [])),
            ]);
            if ($vars['wireguard']) {
                $vars['wg'] = WireGuardView::clientVars($account, $lang);
                $vars['online'] = $vars['wg']['online'];
            }
            $nodes = isset($data['sessions']['nodes']) && is_array($data['sessions']['nodes']) ? $data['sessions']['nodes'] : [];
            if ($nodes || !$vars['wireguard']) {
                $zone = isset($account['timeZone']) ? (string) $account['timeZone'] : '';
                $vars['sessionsShown'] = true;
                $vars['sessions'] = SessionView::rows($nodes, $zone, $lang);
                $vars['sessionsNote'] = SessionView::zoneNote($zone, $lang);
            }
        }
        $service = Whmcs::service($serviceId);
        $clientRow = Whmcs::client((int) $params['userid']);
        $productId = (int) (isset($params['pid']) ? $params['pid'] : ($service ? $service->packageid : 0));
        foreach (Whmcs::trafficAddons($productId, $clientRow ? (int) $clientRow->currency : 0) as $addon) {
            $price = $addon['price'] === null ? $lang->t('price_free')
                : $addon['price'] . ' ' . $lang->t('cycle_' . $addon['cycle']);
            $vars['addons'][] = ['id' => $addon['id'], 'label' => $addon['name'] . ' (' . $price . ')'];
        }
        if ($account && $vars['error'] === '') {
            $vars['usage'] = self::usageMount($params, $lang);
        }
        return $vars;
    }

    /**
     * What the client-area usage page (a separate bundle) needs: where it sends its operations (the
     * module's own action on the WHMCS origin in proxy mode, the server's public client listener in
     * direct mode), a short-lived token for this client's service, and its strings. Null when no
     * token can be had.
     */
    public static function usageMount(array $params, Lang $lang, string $scriptBase = '')
    {
        $config = Config::get();
        try {
            $client = new GraphQLClient(null, $lang);
            $data = $client->call('MintClientToken',
                'mutation($c: Int!, $s: [Int!]!) { mintClientToken(clientId: $c, serviceIds: $s) { token expiresAt } }',
                ['c' => (int) $params['userid'], 's' => [(int) $params['serviceid']]]);
        } catch (BridgeException $e) {
            return null;
        }
        $strings = [];
        foreach ($lang->all() as $key => $value) {
            if (preg_match('/^(usage_|kind_|topup_|cycle_name_)/', $key) || in_array($key, ['unit_gb', 'unit_note', 'buy_traffic'], true)) {
                $strings[$key] = $value;
            }
        }
        $script = is_file(dirname(__DIR__) . '/js/usage.js') ? $scriptBase . 'modules/servers/' . Module::NAME . '/js/usage.js' : '';
        $proxy = $config['client_area_mode'] === 'proxy';
        return [
            'mode' => $proxy ? 'proxy' : 'direct',
            'graphqlUrl' => $proxy ? '' : (string) $config['browser_graphql_url'],
            'proxyUrl' => $proxy ? self::proxyUrl($params) : '',
            'token' => (string) $data['mintClientToken']['token'],
            'expiresAt' => (string) $data['mintClientToken']['expiresAt'],
            'strings' => json_encode($strings, JSON_UNESCAPED_UNICODE | JSON_HEX_TAG | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_HEX_AMP),
            'script' => $script,
        ];
    }

    /**
     * The module's usageData action for this service, relative to the page that shows it: the
     * client area's (clientarea.php) or, on the admin service page, the admin area's command URL.
     * Both carry WHMCS's CSRF token.
     */
    public static function proxyUrl(array $params): string
    {
        if (Whmcs::inAdminArea()) {
            return AdminScreen::commandUrl($params, ClientProxy::ACTION);
        }
        $query = ['action' => 'productdetails', 'id' => (int) $params['serviceid'], 'modop' => 'custom', 'a' => ClientProxy::ACTION];
        $token = Whmcs::csrfToken();
        if ($token !== '') {
            $query['token'] = $token;
        }
        return 'clientarea.php?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
    }

    /**
     * The usage page's mount point as HTML, for screens without a template (the admin service page):
     * the same data attributes clientarea.tpl renders.
     */
    public static function usageMountHtml(int $serviceId, array $usage, Lang $lang, string $context): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $where = $usage['mode'] === 'proxy'
            ? ' data-proxy-url="' . $e($usage['proxyUrl']) . '"'
            : ' data-graphql-url="' . $e($usage['graphqlUrl']) . '"';
        $html = '<div id="mvpn-usage" class="mvpn-usage" data-service-id="' . $serviceId . '"'
            . $where . ' data-token="' . $e($usage['token']) . '"'
            . ' data-token-expires="' . $e($usage['expiresAt']) . '" data-language="' . $e($lang->language()) . '"'
            . ' data-dir="' . $e($lang->dirAttr()) . '" data-strings="' . $e($usage['strings']) . '"'
            . ' data-context="' . $e($context) . '"></div>';
        if ($usage['script'] !== '') {
            $html .= '<script src="' . $e($usage['script']) . '" defer></script>';
        }
        return $html;
    }

    /**
     * In direct mode, what is wrong with the browser's server address: 'direct_url_loopback' when it
     * names this machine (127.0.0.0/8, ::1, localhost), which no customer's browser reaches;
     * 'direct_url_unreachable' when it does not answer from here either (a missing reverse proxy,
     * say). '' in proxy mode or when it answers.
     */
    public static function directUrlProblem(array $config): string
    {
        if ($config['client_area_mode'] !== 'direct') {
            return '';
        }
        $url = (string) $config['browser_graphql_url'];
        $host = strtolower(trim((string) parse_url($url, PHP_URL_HOST), '[]'));
        if ($host === '' || self::isLoopback($host)) {
            return 'direct_url_loopback';
        }
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => '{"query":"{ __typename }"}',
            CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 3,
            CURLOPT_TIMEOUT => 5,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_NOSIGNAL => true,
        ]);
        $answered = curl_exec($ch) !== false && curl_errno($ch) === 0;
        curl_close($ch);
        return $answered ? '' : 'direct_url_unreachable';
    }

    private static function isLoopback(string $host): bool
    {
        if ($host === 'localhost' || substr($host, -10) === '.localhost' || $host === '::1') {
            return true;
        }
        if (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4)) {
            return strpos($host, '127.') === 0 || $host === '0.0.0.0';
        }
        if (filter_var($host, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6)) {
            $packed = inet_pton($host);
            return $packed === inet_pton('::1') || $packed === inet_pton('::');
        }
        return false;
    }

    private static function safeLink(string $url): string
    {
        return preg_match('#^https?://#i', $url) ? $url : '';
    }
}
