<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * Product and addon settings (from the manifest shared with the server), their dropdown loaders,
 * and the module's default email templates.
 */
class ProductSetup
{
    /** Width of a textarea setting (WHMCS's Cols) when the manifest names none. */
    const TEXTAREA_COLS = 60;

    /** Default email templates (names = the manifest's defaults). */
    const TEMPLATES = [
        'lowTrafficTemplate' => [
            'subject' => 'Your VPN traffic is running low ({$vpn_username})',
            'message' => "<p>Dear {\$client_name},</p>\n<p>your VPN account <strong>{\$vpn_username}</strong> has reached its low traffic threshold of {\$vpn_threshold}: less than {\$vpn_threshold_gb} GB of traffic left.</p>\n<p>Product: {\$service_product_name}<br>\nRemaining traffic: {\$vpn_balance_gb} GB<br>\nUsed of this cycle's allowance: {\$vpn_used_percent} %<br>\nNext due date: {\$service_next_due_date}</p>\n<p>When the service renews, {\$vpn_cycle_allowance_gb} GB are added to the balance. If you need more before then, you can buy extra traffic in the client area.</p>\n<p>{\$signature}</p>",
        ],
        'limitedTemplate' => [
            'subject' => 'Your VPN traffic is used up ({$vpn_username})',
            'message' => "<p>Dear {\$client_name},</p>\n<p>the traffic balance of your VPN account <strong>{\$vpn_username}</strong> is used up, so the account cannot connect for now.</p>\n<p>Product: {\$service_product_name}<br>\nRemaining traffic: {\$vpn_balance_gb} GB<br>\nNext due date: {\$service_next_due_date}</p>\n<p>The account works again as soon as traffic is added: buy extra traffic in the client area, or wait for the renewal, which adds {\$vpn_cycle_allowance_gb} GB.</p>\n<p>{\$signature}</p>",
        ],
        // A quota policy setting (the server's table), not a module setting: see PolicyScreen.
        'throttledTemplate' => [
            'subject' => 'Your VPN traffic is used up: the speed is reduced ({$vpn_username})',
            'message' => "<p>Dear {\$client_name},</p>\n<p>the traffic balance of your VPN account <strong>{\$vpn_username}</strong> is used up. The account stays online, at a reduced speed.</p>\n<p>Product: {\$service_product_name}<br>\nRemaining traffic: {\$vpn_balance_gb} GB<br>\nNext due date: {\$service_next_due_date}</p>\n<p>The full speed is back as soon as traffic is added: buy extra traffic in the client area, or wait for the renewal, which adds {\$vpn_cycle_allowance_gb} GB.</p>\n<p>{\$signature}</p>",
        ],
    ];

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

    /**
     * Whether a service's screens offer WireGuard actions: its product is set to wireguard, or WHMCS
     * gave no product settings (then the server refuses what does not apply).
     */
    public static function offersWireGuard(array $params): bool
    {
        if (Module::addonId($params) > 0) {
            return false;
        }
        if (!array_key_exists('configoption' . Settings::index('service'), $params)) {
            return true;
        }
        return Settings::value($params, 'service') === 'wireguard';
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
        $addon = self::isAddonSettingsPage($params);
        $options = [];
        foreach ($addon ? Settings::addonAll() : Settings::all() as $spec) {
            $key = (string) $spec['key'];
            // Addon settings are labelled by addon_<snake key> (addon_traffic_gb), product ones by setting_<key>;
            // a label or help text without a translation is the manifest's (English) one.
            $langKey = $addon ? 'addon_' . strtolower((string) preg_replace('/([a-z])([A-Z])/', '$1_$2', $key)) : 'setting_' . $key;
            $label = $lang->t($langKey);
            $help = $lang->t($langKey . '_help');
            $field = [
                'FriendlyName' => $label === $langKey ? (string) $spec['label'] : $label,
                'Type' => (string) $spec['type'],
                'Default' => isset($spec['default']) ? (string) $spec['default'] : '',
                'Description' => $help === $langKey . '_help' ? (isset($spec['help']) ? (string) $spec['help'] : '') : $help,
            ];
            if (isset($spec['size'])) {
                $field['Size'] = (string) $spec['size'];
            }
            if ($spec['type'] === 'textarea') {
                // WHMCS draws a textarea of Rows x Cols.
                $field['Rows'] = (string) (isset($spec['rows']) ? $spec['rows'] : 3);
                $field['Cols'] = (string) (isset($spec['cols']) ? $spec['cols'] : self::TEXTAREA_COLS);
            }
            if (isset($spec['options'])) {
                $field['Options'] = implode(',', $spec['options']);
            }
            if (isset($spec['loader'])) {
                $field['Loader'] = Module::NAME . '_Loader' . ucfirst((string) $spec['loader']);
            }
            if (!empty($spec['simpleMode'])) {
                $field['SimpleMode'] = true;
            }
            if (!$addon && $key === 'limitedTemplate') {
                // What happens when traffic is used up (the quota policy) sits with its email.
                $field['Description'] .= PolicyScreen::configBlock($lang, self::editedProductId());
            }
            $options[$key] = $field;
        }
        return $options;
    }

    /** The product whose settings page is drawn (configproducts.php?id=N); 0 on any other page. */
    private static function editedProductId(): int
    {
        $script = isset($_SERVER['SCRIPT_NAME']) ? basename((string) $_SERVER['SCRIPT_NAME']) : 'configproducts.php';
        return $script === 'configproducts.php' && isset($_REQUEST['id']) ? (int) $_REQUEST['id'] : 0;
    }

    /** Loader: PPP profiles of the router behind the product's server (or the first server). */
    public static function loaderProfiles(array $params): array
    {
        $client = new GraphQLClient(null, Lang::forAdmin());
        $routerId = self::loaderRouterId($client, $params, 'LoaderProfiles');
        $data = $client->call('LoaderProfiles', 'query($r: ID!) { routerProfiles(routerId: $r) }', ['r' => $routerId]);
        $profiles = [];
        foreach ($data['routerProfiles'] as $name) {
            $profiles[(string) $name] = (string) $name;
        }
        return $profiles;
    }

    /**
     * Loader: WireGuard interfaces of the router behind the product's server (or the first server),
     * "name (port N)", after the empty choice: the router's only interface. Errors as loaderProfiles.
     */
    public static function loaderWireguardInterfaces(array $params): array
    {
        $lang = Lang::forAdmin();
        $client = new GraphQLClient(null, $lang);
        $routerId = self::loaderRouterId($client, $params, 'LoaderWireguardInterfaces');
        $data = $client->call('LoaderWireguardInterfaces',
            'query($r: ID!) { routerWireGuardInterfaces(routerId: $r) { name listenPort } }', ['r' => $routerId]);
        $interfaces = ['' => $lang->t('wg_interface_only')];
        foreach ($data['routerWireGuardInterfaces'] as $interface) {
            $name = (string) $interface['name'];
            $interfaces[$name] = $lang->t('wg_interface_port', ['name' => $name, 'port' => (int) $interface['listenPort']]);
        }
        return $interfaces;
    }

    /**
     * The router a settings dropdown reads: the server record's from $params (registered on the way),
     * else the one the server knows for the product's server. Throws a readable \Exception, as WHMCS
     * shows a loader's exception in place of the dropdown.
     */
    private static function loaderRouterId(GraphQLClient $client, array $params, string $action): string
    {
        $serverId = self::loaderServerId($params);
        if ($serverId === 0) {
            throw new \Exception(Lang::forAdmin()->t('err_no_server'));
        }
        if (!empty($params['serverpassword']) && (!empty($params['serverip']) || !empty($params['serverhostname']))) {
            return ServerRecord::ensureRouter($client, $params);
        }
        $data = $client->call($action, 'query($s: Int!) { routerForServer(serverId: $s) { id } }', ['s' => $serverId]);
        if (empty($data['routerForServer']['id'])) {
            throw new \Exception(Lang::forAdmin()->t('err_router_unknown'));
        }
        return (string) $data['routerForServer']['id'];
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
            $name = $key === 'throttledTemplate'
                ? Settings::policySpec($key)['default']
                : Settings::all()[Settings::index($key) - 1]['default'];
            if (Whmcs::ensureEmailTemplate((string) $name, $template['subject'], $template['message'])) {
                $created++;
            }
        }
        return $created;
    }

    public static function adminInstallEmailTemplates(array $params): string
    {
        return Module::guard(function () {
            self::installEmailTemplates();
            return 'success';
        });
    }
}
