<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * What each WHMCS module function does: translate $params into one GraphQL operation (after making
 * sure the router of the server record is known to the server) and render the answer. No business
 * logic lives here; the GraphQL server decides.
 */
class Module
{
    const NAME = 'mikrotikvpn';

    /** Placeholder server id for "Test Connection" on a server record that is not saved yet. */
    const UNSAVED_SERVER_ID = 2147483647;

    const ACCOUNT_FIELDS = 'serviceId username status statusReason routerProblem address billingCycle clientId
        router { id name host }
        product { id name profile service }
        bandwidth { downloadBitsPerSecond uploadBitsPerSecond }
        traffic { balanceBytes cycleAllowanceBytes unlimited }';

    const CONNECTION_FIELDS = 'connection { online service callerId address uptimeSeconds }';

    /** Default email templates (names = the manifest's defaults). */
    const TEMPLATES = [
        'lowTrafficTemplate' => [
            'subject' => 'Your VPN traffic is running low ({$vpn_username})',
            'message' => "<p>Dear {\$client_name},</p>\n<p>your VPN account <strong>{\$vpn_username}</strong> has less than {\$vpn_threshold_gb} GB of traffic left.</p>\n<p>Product: {\$service_product_name}<br>\nRemaining traffic: {\$vpn_balance_gb} GB<br>\nNext due date: {\$service_next_due_date}</p>\n<p>When the service renews, {\$vpn_cycle_allowance_gb} GB are added to the balance. If you need more before then, you can buy extra traffic in the client area.</p>\n<p>{\$signature}</p>",
        ],
        'limitedTemplate' => [
            'subject' => 'Your VPN traffic is used up ({$vpn_username})',
            'message' => "<p>Dear {\$client_name},</p>\n<p>the traffic balance of your VPN account <strong>{\$vpn_username}</strong> is used up, so the account cannot connect for now.</p>\n<p>Product: {\$service_product_name}<br>\nRemaining traffic: {\$vpn_balance_gb} GB<br>\nNext due date: {\$service_next_due_date}</p>\n<p>The account works again as soon as traffic is added: buy extra traffic in the client area, or wait for the renewal, which adds {\$vpn_cycle_allowance_gb} GB.</p>\n<p>{\$signature}</p>",
        ],
    ];

    // ------------------------------------------------------------------ metadata and settings

    public static function metaData(): array
    {
        return [
            'DisplayName' => 'MikroTik VPN',
            'APIVersion' => '1.1',
            'RequiresServer' => true,
            'DefaultNonSSLPort' => '8728',
            'DefaultSSLPort' => '8729',
            'ServiceSingleSignOnLabel' => false,
            'AdminSingleSignOnLabel' => false,
            'ListAccountsUniqueIdentifierDisplayName' => 'Username',
            'ListAccountsUniqueIdentifierField' => 'username',
            'ListAccountsProductField' => 'configoption' . Settings::index('profile'),
        ];
    }

    /** True when WHMCS draws the Module Settings of a product addon (not of a product). */
    public static function isAddonSettingsPage(array $params): bool
    {
        if (!empty($params['addonId']) || !empty($params['addonid'])) {
            return true;
        }
        $script = isset($_SERVER['SCRIPT_NAME']) ? basename((string) $_SERVER['SCRIPT_NAME']) : '';
        return $script === 'configaddons.php';
    }

    public static function configOptions(array $params): array
    {
        $lang = Lang::forAdmin();
        if (self::isAddonSettingsPage($params)) {
            return [
                'trafficGb' => [
                    'FriendlyName' => $lang->t('addon_traffic_gb'),
                    'Type' => 'text',
                    'Size' => '8',
                    'Default' => '10',
                    'Description' => $lang->t('addon_traffic_gb_help'),
                    'SimpleMode' => true,
                ],
            ];
        }
        $options = [];
        foreach (Settings::all() as $spec) {
            $key = (string) $spec['key'];
            $label = $lang->t('setting_' . $key);
            $field = [
                'FriendlyName' => $label === 'setting_' . $key ? (string) $spec['label'] : $label,
                'Type' => (string) $spec['type'],
                'Default' => isset($spec['default']) ? (string) $spec['default'] : '',
                'Description' => isset($spec['help']) ? (string) $spec['help'] : '',
            ];
            if (isset($spec['size'])) {
                $field['Size'] = (string) $spec['size'];
            }
            if (isset($spec['options'])) {
                $field['Options'] = implode(',', $spec['options']);
            }
            if (isset($spec['loader'])) {
                $field['Loader'] = self::NAME . '_Loader' . ucfirst((string) $spec['loader']);
            }
            if (!empty($spec['simpleMode'])) {
                $field['SimpleMode'] = true;
            }
            $options[$key] = $field;
        }
        return $options;
    }

    /** Loader: PPP profiles of the router behind the product's server (or the first server). */
    public static function loaderProfiles(array $params): array
    {
        $client = new GraphQLClient(null, Lang::forAdmin());
        $serverId = self::loaderServerId($params);
        if ($serverId === 0) {
            throw new \Exception(Lang::forAdmin()->t('err_no_server'));
        }
        if (!empty($params['serverpassword']) && (!empty($params['serverip']) || !empty($params['serverhostname']))) {
            $routerId = self::ensureRouter($client, $params);
        } else {
            $data = $client->call('LoaderProfiles', 'query($s: Int!) { routerForServer(serverId: $s) { id } }', ['s' => $serverId]);
            if (empty($data['routerForServer']['id'])) {
                throw new \Exception(Lang::forAdmin()->t('err_router_unknown'));
            }
            $routerId = (string) $data['routerForServer']['id'];
        }
        $data = $client->call('LoaderProfiles', 'query($r: ID!) { routerProfiles(routerId: $r) }', ['r' => $routerId]);
        $profiles = [];
        foreach ($data['routerProfiles'] as $name) {
            $profiles[(string) $name] = (string) $name;
        }
        return $profiles;
    }

    /** Loader: the product email templates; the module's two defaults are created when missing. */
    public static function loaderEmailTemplates(array $params): array
    {
        self::installEmailTemplates();
        $names = [];
        foreach (Whmcs::productEmailTemplates() as $name) {
            $names[$name] = $name;
        }
        return $names;
    }

    private static function loaderServerId(array $params): int
    {
        if (!empty($params['serverid'])) {
            return (int) $params['serverid'];
        }
        $productId = isset($_REQUEST['id']) ? (int) $_REQUEST['id'] : 0;
        return Whmcs::serverForProduct($productId);
    }

    /** Creates the two default email templates when missing; returns how many it created. */
    public static function installEmailTemplates(): int
    {
        $created = 0;
        foreach (self::TEMPLATES as $key => $template) {
            $name = Settings::all()[Settings::index($key) - 1]['default'];
            if (Whmcs::ensureEmailTemplate((string) $name, $template['subject'], $template['message'])) {
                $created++;
            }
        }
        return $created;
    }

    // ------------------------------------------------------------------ the router of a server record

    /** RouterInput from WHMCS's server params; the Access Hash holds the CA PEM or a SHA-256 pin. */
    public static function routerInput(array $params, bool $forTest = false): array
    {
        $host = trim((string) (isset($params['serverip']) ? $params['serverip'] : ''));
        if ($host === '') {
            $host = trim((string) (isset($params['serverhostname']) ? $params['serverhostname'] : ''));
        }
        $secure = isset($params['serversecure']) ? $params['serversecure'] : true;
        $tls = $secure === true || $secure === 1 || in_array(strtolower((string) $secure), ['1', 'on', 'true', 'yes'], true);
        $port = isset($params['serverport']) ? (int) $params['serverport'] : 0;
        $serverId = isset($params['serverid']) ? (int) $params['serverid'] : 0;
        if ($serverId <= 0 && $forTest) {
            $serverId = self::UNSAVED_SERVER_ID;
        }
        $input = [
            'serverId' => $serverId,
            'host' => $host,
            'port' => $port > 0 ? $port : ($tls ? 8729 : 8728),
            'tls' => $tls,
            'username' => (string) (isset($params['serverusername']) ? $params['serverusername'] : ''),
        ];
        if (isset($params['serverpassword']) && (string) $params['serverpassword'] !== '') {
            $input['password'] = (string) $params['serverpassword'];
        }
        $pin = self::parseAccessHash(isset($params['serveraccesshash']) ? (string) $params['serveraccesshash'] : '');
        return $input + $pin;
    }

    /** @return array{caPem?:string,fingerprintSha256?:string} */
    public static function parseAccessHash(string $hash): array
    {
        $hash = trim(html_entity_decode($hash, ENT_QUOTES, 'UTF-8'));
        if ($hash === '') {
            return [];
        }
        if (strpos($hash, '-----BEGIN CERTIFICATE-----') !== false) {
            return ['caPem' => str_replace("\r\n", "\n", $hash)];
        }
        $hex = strtoupper(preg_replace('/[\s:]/', '', $hash));
        if (preg_match('/^[0-9A-F]{64}$/', $hex)) {
            return ['fingerprintSha256' => implode(':', str_split($hex, 2))];
        }
        throw new BridgeException('VALIDATION', Lang::forAdmin()->t('err_access_hash'));
    }

    /** upsertRouter with the current server params (idempotent); returns the router id. */
    public static function ensureRouter(GraphQLClient $client, array $params): string
    {
        if (empty($params['serverid'])) {
            throw new BridgeException('VALIDATION', Lang::forAdmin()->t('err_no_server'));
        }
        $data = $client->call(
            'UpsertRouter',
            'mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }',
            ['input' => self::routerInput($params)]
        );
        return (string) $data['upsertRouter']['id'];
    }

    // ------------------------------------------------------------------ server record

    public static function testConnection(array $params): array
    {
        $lang = Lang::forAdmin();
        $client = new GraphQLClient(null, $lang);
        try {
            $data = $client->call(
                'TestConnection',
                'mutation($input: RouterInput!) { testRouterConnection(input: $input) { ok identity version profiles problems warnings errorCode } }',
                ['input' => self::routerInput($params, true)]
            );
            $result = $data['testRouterConnection'];
            if (empty($result['ok'])) {
                $problems = $result['problems'] ? implode(' ', $result['problems']) : $lang->t('err_internal');
                return ['success' => false, 'error' => $problems];
            }
            if (!empty($params['serverid'])) {
                self::ensureRouter($client, $params);
            }
            return ['success' => true, 'error' => ''];
        } catch (BridgeException $e) {
            return ['success' => false, 'error' => $e->getMessage()];
        }
    }

    // ------------------------------------------------------------------ lifecycle

    public static function createAccount(array $params): string
    {
        return self::guard(function () use ($params) {
            if (self::addonId($params) > 0) {
                self::topUpForAddon(self::addonId($params), 'activation');
                return 'success';
            }
            $client = new GraphQLClient(null, Lang::forAdmin());
            self::ensureRouter($client, $params);
            $serviceId = (int) $params['serviceid'];
            $service = Whmcs::service($serviceId);
            $username = trim((string) (isset($params['username']) ? $params['username'] : ''));
            $generated = $username === '';
            $password = (string) (isset($params['password']) ? $params['password'] : '');
            $updates = [];
            if ($password === '') {
                $password = self::generatePassword();
                $updates['password'] = function_exists('encrypt') ? encrypt($password) : $password;
            }
            for ($attempt = 0;; $attempt++) {
                if ($generated) {
                    $username = self::generateUsername();
                }
                try {
                    $data = $client->call(
                        'CreateAccount',
                        'mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { serviceId username status address } }',
                        ['input' => [
                            'serviceId' => $serviceId,
                            'serverId' => (int) $params['serverid'],
                            'productId' => (int) (isset($params['pid']) ? $params['pid'] : $params['packageid']),
                            'username' => $username,
                            'password' => $password,
                            'billingCycle' => $service ? (string) $service->billingcycle : 'Monthly',
                        ]],
                        [$password]
                    );
                    break;
                } catch (BridgeException $e) {
                    // A generated name that is taken on the router: pick another (the server created nothing).
                    if (!$generated || $e->getErrorCode() !== ErrorCode::CONFLICT || $attempt >= 4) {
                        throw $e;
                    }
                }
            }
            $account = $data['createVpnAccount'];
            $updates['username'] = (string) $account['username'];
            $updates['dedicatedip'] = (string) $account['address'];
            Whmcs::updateService($serviceId, $updates);
            return 'success';
        });
    }

    public static function suspendAccount(array $params): string
    {
        return self::lifecycle($params, 'SuspendAccount',
            'mutation($s: Int!, $r: String) { suspendVpnAccount(serviceId: $s, reason: $r) { status } }',
            ['r' => isset($params['suspendreason']) && $params['suspendreason'] !== '' ? (string) $params['suspendreason'] : null]);
    }

    public static function unsuspendAccount(array $params): string
    {
        return self::lifecycle($params, 'UnsuspendAccount',
            'mutation($s: Int!) { unsuspendVpnAccount(serviceId: $s) { status } }');
    }

    public static function terminateAccount(array $params): string
    {
        return self::guard(function () use ($params) {
            try {
                return self::lifecycle($params, 'TerminateAccount',
                    'mutation($s: Int!) { terminateVpnAccount(serviceId: $s) { status } }', [], true);
            } catch (BridgeException $e) {
                // Nothing was ever created for this service: there is nothing to remove.
                if ($e->getErrorCode() === ErrorCode::NOT_FOUND && stripos($e->getMessage(), 'VPN account') !== false) {
                    return 'success';
                }
                throw $e;
            }
        });
    }

    public static function changePackage(array $params): string
    {
        return self::lifecycle($params, 'ChangePackage',
            'mutation($s: Int!, $p: Int!) { changeVpnPackage(serviceId: $s, productId: $p) { status } }',
            ['p' => (int) (isset($params['pid']) ? $params['pid'] : $params['packageid'])]);
    }

    public static function changePassword(array $params): string
    {
        // The customer may see this message: use their language.
        $lang = Lang::forClient(isset($params['userid']) ? (int) $params['userid'] : 0);
        return self::lifecycle($params, 'ChangePassword',
            'mutation($s: Int!, $password: String!) { changeVpnPassword(serviceId: $s, password: $password) { status } }',
            ['password' => (string) $params['password']], false, $lang);
    }

    public static function resetConnection(array $params): string
    {
        return self::lifecycle($params, 'ResetConnection',
            'mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }');
    }

    public static function adminInstallEmailTemplates(array $params): string
    {
        return self::guard(function () {
            self::installEmailTemplates();
            return 'success';
        });
    }

    public static function renew(array $params): string
    {
        return self::guard(function () use ($params) {
            if (self::addonId($params) > 0) {
                self::topUpForAddon(self::addonId($params), 'renewal');
                return 'success';
            }
            $serviceId = (int) $params['serviceid'];
            // The server names the cycle by the service's next due date and reads its billing cycle
            // from tblhosting itself; the check here only keeps WHMCS's message in the admin's language.
            $service = Whmcs::service($serviceId);
            $due = $service && $service->nextduedate ? (string) $service->nextduedate : '';
            if ($due === '' || $due === '0000-00-00') {
                throw new BridgeException('VALIDATION', Lang::forAdmin()->t('err_no_due_date'));
            }
            $invoice = Whmcs::latestPaidInvoice('Hosting', $serviceId);
            $client = new GraphQLClient(null, Lang::forAdmin());
            $client->call(
                'Renew',
                'mutation($s: Int!, $i: Int) { renewVpnAccount(serviceId: $s, invoiceId: $i) { id bytes balanceAfterBytes } }',
                ['s' => $serviceId, 'i' => $invoice ? $invoice['id'] : null]
            );
            return 'success';
        });
    }

    /**
     * Credits a traffic addon once per activation or renewal: the idempotency key names the addon
     * and the invoice that paid it (or, without an invoice, the addon's dates), so WHMCS calling
     * CreateAccount and the AddonActivation hook for the same payment credits once.
     *
     * @return array<string,mixed>|null the top-up, or null when the addon is not one of this module's
     */
    public static function topUpForAddon(int $hostingAddonId, string $event)
    {
        $lang = Lang::forAdmin();
        $row = Whmcs::hostingAddon($hostingAddonId);
        if (!$row) {
            throw new BridgeException('NOT_FOUND', $lang->t('err_addon_missing', ['id' => $hostingAddonId]));
        }
        $definition = Whmcs::addonDefinition((int) $row->addonid);
        if (!$definition || (string) $definition->module !== self::NAME) {
            return null;
        }
        $gb = Whmcs::addonSetting((int) $definition->id, 'configoption1');
        $bytes = Format::gbToBytes($gb);
        if ($bytes === null || $bytes <= 0) {
            throw new BridgeException('VALIDATION', $lang->t('err_addon_gb', ['name' => (string) $definition->name]));
        }
        $qty = max(1, (int) (isset($row->qty) ? $row->qty : 1));
        $invoice = Whmcs::latestPaidInvoice('Addon', $hostingAddonId);
        if ($invoice) {
            $key = 'addon:' . $hostingAddonId . ':invoice:' . $invoice['id'];
        } else {
            $date = $event === 'renewal' ? (string) $row->nextduedate : (string) $row->regdate;
            $key = 'addon:' . $hostingAddonId . ':' . $event . ':' . $date;
        }
        $description = (string) $definition->name . ($qty > 1 ? ' × ' . $qty : '')
            . ($invoice ? ' · ' . $lang->t('invoice_number', ['number' => $invoice['number']]) : '');
        $client = new GraphQLClient(null, $lang);
        $data = $client->call(
            'TopUpTraffic',
            'mutation($input: TopUpTrafficInput!) { topUpTraffic(input: $input) { id bytes balanceBeforeBytes balanceAfterBytes } }',
            ['input' => [
                'serviceId' => (int) $row->hostingid,
                'bytes' => (string) ($bytes * $qty),
                'idempotencyKey' => $key,
                'invoiceId' => $invoice ? $invoice['id'] : null,
                'description' => $description,
                'kind' => 'ADDON',
            ]]
        );
        return $data['topUpTraffic'];
    }

    // ------------------------------------------------------------------ screens and sync

    public static function adminServicesTabFields(array $params): array
    {
        $lang = Lang::forAdmin();
        if (self::addonId($params) > 0) {
            return [];
        }
        $client = new GraphQLClient(null, $lang);
        $serviceId = (int) $params['serviceid'];
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $ok = '<span class="label label-success badge badge-success">';
        $bad = '<span class="label label-danger badge badge-danger">';
        $warn = '<span class="label label-warning badge badge-warning">';
        try {
            $data = $client->call('AdminServicesTabFields',
                'query($s: Int!) { vpnAccount(serviceId: $s) { ' . self::ACCOUNT_FIELDS . ' ' . self::CONNECTION_FIELDS . ' } }',
                ['s' => $serviceId]);
        } catch (BridgeException $ex) {
            return [$lang->t('admin_api') => $bad . $e($lang->t('admin_api_failed')) . '</span> ' . $e($ex->getMessage())];
        }
        $fields = [$lang->t('admin_api') => $ok . '&#10003;</span> ' . $e($lang->t('admin_api_ok'))];
        $account = $data['vpnAccount'];
        if (!$account) {
            $fields[$lang->t('admin_vpn_user')] = $warn . $e($lang->t('admin_no_account')) . '</span>';
            return $fields;
        }
        $status = (string) $account['status'];
        $badge = $status === 'ACTIVE' ? $ok : ($status === 'PENDING' ? $warn : $bad);
        $fields[$lang->t('admin_vpn_user')] = '<code>' . $e($account['username']) . '</code> ' . $badge
            . $e($lang->t('status_' . $status)) . '</span>'
            . ($account['statusReason'] ? ' ' . $e($account['statusReason']) : '')
            . ' &middot; ' . $e($lang->t('address')) . ': <code>' . $e($account['address']) . '</code>'
            . ' &middot; ' . $e($lang->t('router')) . ': ' . $e($account['router']['name'] . ' (' . $account['router']['host'] . ')');
        if (!empty($account['routerProblem'])) {
            // Enforcement never waits for it; the admin should still know (e.g. a missing profile).
            $fields[$lang->t('admin_router_problem')] = $warn . '!</span> ' . $e($account['routerProblem']);
        }
        $conn = isset($account['connection']) ? $account['connection'] : null;
        if ($conn && !empty($conn['online'])) {
            $fields[$lang->t('connection')] = $ok . $e($lang->t('online')) . '</span> '
                . $e($lang->t('conn_service')) . ': ' . $e($conn['service']) . ' &middot; '
                . $e($lang->t('conn_caller')) . ': ' . $e($conn['callerId']) . ' &middot; '
                . $e($lang->t('address')) . ': ' . $e($conn['address']) . ' &middot; '
                . $e($lang->t('conn_uptime')) . ': ' . $e(Format::uptime($conn['uptimeSeconds']));
        } else {
            $fields[$lang->t('connection')] = $bad . $e($lang->t('offline')) . '</span>';
        }
        $fields[$lang->t('traffic')] = self::trafficSummaryHtml($account, $lang);
        try {
            $data = $client->call('AdminServicesTabFields',
                'query($s: Int!) { vpnAccount(serviceId: $s) { topUps(first: 20) { nodes { id at day kind reason cycle bytes balanceBeforeBytes balanceAfterBytes invoiceId description } pageInfo { hasNextPage endCursor } } } }',
                ['s' => $serviceId]);
            $fields[$lang->t('history_title')] = self::historyHtml($data['vpnAccount']['topUps']['nodes'], $lang);
        } catch (BridgeException $ex) {
            $fields[$lang->t('history_title')] = $e($ex->getMessage());
        }
        // The client-area usage page, the same component, with a token for this service's client.
        $usage = self::usageMount($params, $lang, '../');
        if ($usage) {
            $fields[$lang->t('usage_title')] = self::usageMountHtml($serviceId, $usage, $lang, 'admin');
        }
        return $fields;
    }

    private static function trafficSummaryHtml(array $account, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $t = $account['traffic'];
        $bw = $account['bandwidth'] ?: ['downloadBitsPerSecond' => 0, 'uploadBitsPerSecond' => 0];
        $speed = function ($bits) use ($lang) {
            $mbps = Format::mbps($bits);
            return $mbps === null ? $lang->t('no_limit') : $mbps . ' ' . $lang->t('unit_mbps');
        };
        $cells = [
            $lang->t('traffic_balance') => Format::gb($t['balanceBytes']) . ' ' . $lang->t('unit_gb'),
            $lang->t('bandwidth_download') => $speed($bw['downloadBitsPerSecond']),
            $lang->t('bandwidth_upload') => $speed($bw['uploadBitsPerSecond']),
            $lang->t('cycle_allowance') => !empty($t['unlimited']) ? $lang->t('unlimited')
                : Format::gb($t['cycleAllowanceBytes']) . ' ' . $lang->t('unit_gb'),
        ];
        $html = '<table class="table table-condensed table-sm" style="width:auto;margin:0"><tr>';
        foreach ($cells as $label => $value) {
            $html .= '<th>' . $e($label) . '</th>';
        }
        $html .= '</tr><tr>';
        foreach ($cells as $value) {
            $html .= '<td>' . $e($value) . '</td>';
        }
        return $html . '</tr></table>';
    }

    /** @param array<int,array<string,mixed>> $topUps */
    public static function historyHtml(array $topUps, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        if (!$topUps) {
            return $e($lang->t('history_none'));
        }
        $html = '<table class="table table-condensed table-sm table-striped" style="margin:0"><thead><tr>';
        foreach (['usage_date', 'usage_added', 'usage_before', 'usage_after', 'usage_description', 'usage_invoice'] as $key) {
            $html .= '<th>' . $e($lang->t($key)) . '</th>';
        }
        $html .= '</tr></thead><tbody>';
        $unit = ' ' . $e($lang->t('unit_gb'));
        foreach ($topUps as $t) {
            $invoice = $t['invoiceId'] ? '<a href="invoices.php?action=edit&amp;id=' . (int) $t['invoiceId'] . '">'
                . $e($lang->t('invoice_number', ['number' => (int) $t['invoiceId']])) . '</a>' : '';
            // The day in WHMCS's time zone, as the server counts it (not this PHP's zone).
            $day = isset($t['day']) && $t['day'] !== '' ? (string) $t['day'] : Format::date($t['at']);
            $html .= '<tr><td>' . $e($day) . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::signedGb($t['bytes'])) . '</bdi>' . $unit . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::gb($t['balanceBeforeBytes'])) . '</bdi>' . $unit . '</td>'
                . '<td><bdi dir="ltr">' . $e(Format::gb($t['balanceAfterBytes'])) . '</bdi>' . $unit . '</td>'
                . '<td>' . $e(self::topUpText($t, $lang)) . '</td>'
                . '<td>' . $invoice . '</td></tr>';
        }
        return $html . '</tbody></table>';
    }

    /**
     * What a history line is, in the reader's language: the server words its own lines by reason
     * (and billing cycle) and leaves their description empty; addons, adjustments and lines from
     * before reasons existed go by their kind.
     *
     * @param array<string,mixed> $t a TrafficTopUp
     */
    public static function topUpLabel(array $t, Lang $lang): string
    {
        $reason = isset($t['reason']) ? (string) $t['reason'] : '';
        $cycle = isset($t['cycle']) ? (string) $t['cycle'] : '';
        if ($reason === 'MOVED') {
            return $lang->t('topup_MOVED');
        }
        if (in_array($reason, ['FIRST_CYCLE', 'RENEWAL', 'PACKAGE_CHANGE'], true) && $cycle !== '') {
            return $lang->t('topup_' . $reason, ['cycle' => self::cycleName($cycle, $lang)]);
        }
        return $lang->t('kind_' . (string) $t['kind']);
    }

    /** A billing cycle as WHMCS names it ("Semi-Annually") in the reader's language; unknown ones as they are. */
    public static function cycleName(string $cycle, Lang $lang): string
    {
        $key = 'cycle_name_' . preg_replace('/[^a-z]/', '', strtolower($cycle));
        $name = $lang->t($key);
        return $name === $key ? $cycle : $name;
    }

    /**
     * The label, then what a person or WHMCS named (an addon's name, an adjustment's reason), unless
     * it only repeats the label or the kind ("Additional traffic · Additional traffic").
     *
     * @param array<string,mixed> $t a TrafficTopUp
     */
    public static function topUpText(array $t, Lang $lang): string
    {
        $label = self::topUpLabel($t, $lang);
        $description = trim((string) (isset($t['description']) ? $t['description'] : ''));
        $fold = function ($s) {
            $s = trim((string) $s);
            return function_exists('mb_strtolower') ? mb_strtolower($s, 'UTF-8') : strtolower($s);
        };
        if ($description === '' || in_array($fold($description), [$fold($label), $fold($lang->t('kind_' . (string) $t['kind']))], true)) {
            return $label;
        }
        return $label . ' · ' . $description;
    }

    /** Daily cron, once per server: WHMCS's own bandwidth columns (MB = 10^6 bytes). */
    public static function usageUpdate(array $params): string
    {
        return self::guard(function () use ($params) {
            $serverId = (int) $params['serverid'];
            $client = new GraphQLClient(null, Lang::forAdmin());
            $after = null;
            $now = date('Y-m-d H:i:s');
            do {
                $data = $client->call('UsageUpdate',
                    'query($s: Int!, $after: String) { routerForServer(serverId: $s) { id accounts(first: 100, after: $after) { nodes { serviceId status traffic { usedThisCycleBytes cycleAllowanceBytes unlimited } } pageInfo { hasNextPage endCursor } } } }',
                    array_filter(['s' => $serverId, 'after' => $after], function ($v) {
                        return $v !== null; // an explicit null cursor is refused by the server
                    }));
                $router = $data['routerForServer'];
                if (!$router) {
                    return 'success';
                }
                foreach ($router['accounts']['nodes'] as $account) {
                    if ($account['status'] === 'TERMINATED') {
                        continue;
                    }
                    $t = $account['traffic'];
                    \WHMCS\Database\Capsule::table('tblhosting')
                        ->where('id', (int) $account['serviceId'])
                        ->where('server', $serverId)
                        ->update([
                            'bwusage' => Format::mb($t['usedThisCycleBytes']),
                            'bwlimit' => !empty($t['unlimited']) ? 0 : Format::mb($t['cycleAllowanceBytes']),
                            'lastupdate' => $now,
                        ]);
                }
                $page = $router['accounts']['pageInfo'];
                $after = $page['hasNextPage'] ? $page['endCursor'] : null;
            } while ($after !== null);
            return 'success';
        });
    }

    public static function listAccounts(array $params): array
    {
        try {
            $client = new GraphQLClient(null, Lang::forAdmin());
            $routerId = self::ensureRouter($client, $params);
            $accounts = [];
            $after = null;
            do {
                $data = $client->call('ListAccounts',
                    'query($r: ID!, $after: String) { vpnAccounts(first: 100, after: $after, filter: { routerId: $r }) { nodes { serviceId clientId username address status createdAt product { profile } } pageInfo { hasNextPage endCursor } } }',
                    array_filter(['r' => $routerId, 'after' => $after], function ($v) {
                        return $v !== null; // an explicit null cursor is refused by the server
                    }));
                foreach ($data['vpnAccounts']['nodes'] as $a) {
                    if ($a['status'] === 'TERMINATED') {
                        continue;
                    }
                    $client_ = Whmcs::client((int) $a['clientId']);
                    $accounts[] = [
                        'email' => $client_ ? (string) $client_->email : '',
                        'username' => (string) $a['username'],
                        'domain' => '',
                        'uniqueIdentifier' => (string) $a['username'],
                        'product' => $a['product'] ? (string) $a['product']['profile'] : '',
                        'primaryip' => (string) $a['address'],
                        'created' => date('Y-m-d H:i:s', strtotime((string) $a['createdAt'])),
                        'status' => self::whmcsStatus((string) $a['status']),
                    ];
                }
                $page = $data['vpnAccounts']['pageInfo'];
                $after = $page['hasNextPage'] ? $page['endCursor'] : null;
            } while ($after !== null);
            return ['success' => true, 'accounts' => $accounts];
        } catch (BridgeException $e) {
            return ['success' => false, 'accounts' => [], 'error' => $e->getMessage()];
        }
    }

    private static function whmcsStatus(string $status): string
    {
        switch ($status) {
            case 'SUSPENDED':
                return 'Suspended';
            case 'PENDING':
                return 'Pending';
            case 'TERMINATED':
                return 'Terminated';
            default:
                return 'Active'; // LIMITED is an active service whose traffic is used up
        }
    }

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
            'suspended' => false,
            'online' => false,
            'connService' => '',
            'connAddress' => '',
            'connUptime' => '',
            'balance' => '',
            'balanceNegative' => false,
            'download' => '',
            'upload' => '',
            'allowance' => '',
            'address' => '',
            'addons' => [],
            'cartUrl' => 'cart.php?a=add',
            'usage' => null,
        ];
        $client = new GraphQLClient(null, $lang);
        try {
            $data = $client->call('ClientArea',
                'query($s: Int!) { vpnAccount(serviceId: $s) { ' . self::ACCOUNT_FIELDS . ' ' . self::CONNECTION_FIELDS . ' } }',
                ['s' => $serviceId]);
            $account = $data['vpnAccount'];
        } catch (BridgeException $e) {
            $vars['error'] = $lang->t('unavailable');
            $account = null;
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
                'suspended' => $account['status'] === 'SUSPENDED',
                'online' => $conn && !empty($conn['online']),
                'connService' => $conn && $conn['service'] ? strtoupper((string) $conn['service']) : '',
                'connAddress' => $conn && $conn['address'] ? (string) $conn['address'] : '',
                'connUptime' => $conn && !empty($conn['online']) ? Format::uptime($conn['uptimeSeconds']) : '',
                'balance' => Format::gb($t['balanceBytes']) . ' ' . $lang->t('unit_gb'),
                'balanceNegative' => Format::int($t['balanceBytes']) <= 0 && empty($t['unlimited']),
                'download' => $speed($bw['downloadBitsPerSecond']),
                'upload' => $speed($bw['uploadBitsPerSecond']),
                'allowance' => !empty($t['unlimited']) ? $lang->t('unlimited') : Format::gb($t['cycleAllowanceBytes']) . ' ' . $lang->t('unit_gb'),
            ]);
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
     * What the client-area usage page (a separate bundle) needs: the browser's GraphQL URL, a
     * short-lived token for this client's service, and its strings. Null when no token can be had.
     */
    private static function usageMount(array $params, Lang $lang, string $scriptBase = '')
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
        $script = is_file(dirname(__DIR__) . '/js/usage.js') ? $scriptBase . 'modules/servers/' . self::NAME . '/js/usage.js' : '';
        return [
            'graphqlUrl' => (string) $config['browser_graphql_url'],
            'token' => (string) $data['mintClientToken']['token'],
            'expiresAt' => (string) $data['mintClientToken']['expiresAt'],
            'strings' => json_encode($strings, JSON_UNESCAPED_UNICODE | JSON_HEX_TAG | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_HEX_AMP),
            'script' => $script,
        ];
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
        $html = '<div id="mvpn-usage" class="mvpn-usage" data-service-id="' . $serviceId . '"'
            . ' data-graphql-url="' . $e($usage['graphqlUrl']) . '" data-token="' . $e($usage['token']) . '"'
            . ' data-token-expires="' . $e($usage['expiresAt']) . '" data-language="' . $e($lang->language()) . '"'
            . ' data-dir="' . $e($lang->dirAttr()) . '" data-strings="' . $e($usage['strings']) . '"'
            . ' data-context="' . $e($context) . '"></div>';
        if ($usage['script'] !== '') {
            $html .= '<script src="' . $e($usage['script']) . '" defer></script>';
        }
        return $html;
    }

    private static function safeLink(string $url): string
    {
        return preg_match('#^https?://#i', $url) ? $url : '';
    }

    // ------------------------------------------------------------------ helpers

    private static function addonId(array $params): int
    {
        foreach (['addonId', 'addonid'] as $k) {
            if (!empty($params[$k])) {
                return (int) $params[$k];
            }
        }
        return 0;
    }

    /**
     * Runs one service mutation after refreshing the router; 'success' or the error sentence.
     *
     * @param array<string,mixed> $extra
     */
    private static function lifecycle(array $params, string $action, string $mutation, array $extra = [], bool $rethrow = false, ?Lang $lang = null): string
    {
        $run = function () use ($params, $action, $mutation, $extra, $lang) {
            if (self::addonId($params) > 0) {
                return 'success'; // a traffic addon has nothing on the router to suspend or remove
            }
            $client = new GraphQLClient(null, $lang ?: Lang::forAdmin());
            self::ensureRouter($client, $params);
            $client->call($action, $mutation, ['s' => (int) $params['serviceid']] + $extra);
            return 'success';
        };
        return $rethrow ? $run() : self::guard($run);
    }

    /** Turns a BridgeException (or anything) into the one sentence WHMCS shows. */
    private static function guard(callable $work): string
    {
        try {
            return $work();
        } catch (BridgeException $e) {
            return $e->getMessage();
        } catch (\Throwable $e) {
            if (function_exists('logModuleCall')) {
                logModuleCall(self::NAME, 'error', '', get_class($e) . ': ' . $e->getMessage(), '', []);
            }
            return Lang::forAdmin()->t('err_internal');
        }
    }

    public static function generateUsername(): string
    {
        $alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
        for ($i = 0; $i < 20; $i++) {
            $name = 'vpn';
            for ($j = 0; $j < 6; $j++) {
                $name .= $alphabet[random_int(0, strlen($alphabet) - 1)];
            }
            if (!Whmcs::usernameTaken($name)) {
                return $name;
            }
        }
        return $name;
    }

    public static function generatePassword(): string
    {
        $alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
        $password = '';
        for ($j = 0; $j < 14; $j++) {
            $password .= $alphabet[random_int(0, strlen($alphabet) - 1)];
        }
        return $password;
    }
}
