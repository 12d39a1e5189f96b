<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * WHMCS's lifecycle functions (Create, Suspend, Unsuspend, Terminate, Change Package, Change
 * Password, Renew, the Reset connection button, traffic addons): WHMCS params in, one GraphQL
 * operation, 'success' or the sentence WHMCS shows. The server decides everything — the user name
 * when WHMCS has none, the billing cycle and its key, the paying invoice, what an addon is worth.
 */
class Lifecycle
{
    public static function createAccount(array $params): string
    {
        return Module::guard(function () use ($params) {
            if (Module::addonId($params) > 0) {
                self::creditAddon(Module::addonId($params), 'ACTIVATION');
                return 'success';
            }
            $client = new GraphQLClient(null, Lang::forAdmin());
            ServerRecord::ensureRouter($client, $params);
            $serviceId = (int) $params['serviceid'];
            $service = Whmcs::service($serviceId);
            $username = trim((string) (isset($params['username']) ? $params['username'] : ''));
            $password = (string) (isset($params['password']) ? $params['password'] : '');
            $updates = [];
            if ($password === '') {
                // WHMCS keeps the password (the server never stores it), so WHMCS's side makes it.
                $password = self::generatePassword();
                $updates['password'] = function_exists('encrypt') ? encrypt($password) : $password;
            }
            $data = $client->call(
                'CreateAccount',
                'mutation($input: CreateVpnAccountInput!) { createVpnAccount(input: $input) { serviceId username status address } }',
                ['input' => [
                    'serviceId' => $serviceId,
                    'serverId' => (int) $params['serverid'],
                    'productId' => (int) (isset($params['pid']) ? $params['pid'] : $params['packageid']),
                    // Empty: the server picks a free one and says which.
                    'username' => $username === '' ? null : $username,
                    'password' => $password,
                    'billingCycle' => $service ? (string) $service->billingcycle : 'Monthly',
                ]],
                [$password]
            );
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

    /** A service that never had an account answers NothingToTerminate: nothing to remove, success. */
    public static function terminateAccount(array $params): string
    {
        return self::lifecycle($params, 'TerminateAccount',
            'mutation($s: Int!) { terminateVpnService(serviceId: $s) { __typename ... on VpnAccount { status } ... on ErrorResult { errorCode } } }');
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
            ['password' => (string) $params['password']], $lang);
    }

    public static function resetConnection(array $params): string
    {
        return self::lifecycle($params, 'ResetConnection',
            'mutation($s: Int!) { resetVpnConnection(serviceId: $s) { status } }');
    }

    const NEW_KEYS_MUTATION = 'mutation($s: Int!) { regenerateWireGuardKeys(serviceId: $s) { status } }';

    /** Admin button "New WireGuard keys": the server makes new keys; the old config stops working. */
    public static function adminNewWireGuardKeys(array $params): string
    {
        return self::lifecycle($params, 'NewWireGuardKeys', self::NEW_KEYS_MUTATION);
    }

    /**
     * Client area "New keys". WHMCS also lists the action as a plain link (the Actions menu), so only
     * the confirmed form (POST with mvpn_confirm) makes keys; anything else gets the page asking to
     * confirm. A product that is not WireGuard has no keys to renew.
     *
     * @return string|array<string,mixed> 'success', the sentence to show, or the confirmation page
     */
    public static function clientNewKeys(array $params)
    {
        $lang = Lang::forClient(isset($params['userid']) ? (int) $params['userid'] : 0);
        if (Module::addonId($params) > 0 || Settings::value($params, 'service') !== 'wireguard') {
            return $lang->t('err_not_wireguard');
        }
        $serviceId = (int) $params['serviceid'];
        $confirmed = isset($_SERVER['REQUEST_METHOD']) && strtoupper((string) $_SERVER['REQUEST_METHOD']) === 'POST'
            && isset($_POST['mvpn_confirm']) && (string) $_POST['mvpn_confirm'] === '1';
        if (!$confirmed) {
            return [
                'templatefile' => 'templates/newkeys',
                'breadcrumb' => ['clientarea.php?action=productdetails&id=' . $serviceId => $lang->t('wg_new_keys')],
                'vars' => [
                    'mvpnLang' => $lang->all(),
                    'mvpnDir' => $lang->dirAttr(),
                    'mvpnLanguage' => $lang->language(),
                    'mvpnServiceId' => $serviceId,
                ],
            ];
        }
        return Module::guard(function () use ($serviceId, $lang) {
            $client = new GraphQLClient(null, $lang);
            $client->call('NewKeys', self::NEW_KEYS_MUTATION, ['s' => $serviceId]);
            return 'success';
        });
    }

    /** A paid renewal: the server names the cycle, reads WHMCS's billing cycle and finds the paying invoice. */
    public static function renew(array $params): string
    {
        return Module::guard(function () use ($params) {
            if (Module::addonId($params) > 0) {
                self::creditAddon(Module::addonId($params), 'RENEWAL');
                return 'success';
            }
            $client = new GraphQLClient(null, Lang::forAdmin());
            $client->call('Renew',
                'mutation($s: Int!) { renewVpnAccount(serviceId: $s) { id bytes balanceAfterBytes } }',
                ['s' => (int) $params['serviceid']]);
            return 'success';
        });
    }

    /**
     * A traffic addon (tblhostingaddons.id) activated or renewed. The server reads what it is worth
     * and credits it once per payment, however many of WHMCS's paths (the module call, the hook)
     * report it; an addon of another module is nothing to do.
     *
     * @return array<string,mixed> the TrafficTopUp, or the NotATrafficAddon result
     */
    public static function creditAddon(int $hostingAddonId, string $event): array
    {
        $client = new GraphQLClient(null, Lang::forAdmin());
        $data = $client->call('CreditHostingAddon',
            'mutation($a: Int!, $e: AddonEvent!) { creditHostingAddon(hostingAddonId: $a, event: $e) { __typename ... on TrafficTopUp { id bytes balanceAfterBytes } ... on ErrorResult { errorCode } } }',
            ['a' => $hostingAddonId, 'e' => $event]);
        return $data['creditHostingAddon'];
    }

    /**
     * Runs one service mutation after refreshing the router; 'success' or the error sentence.
     *
     * @param array<string,mixed> $extra
     */
    private static function lifecycle(array $params, string $action, string $mutation, array $extra = [], ?Lang $lang = null): string
    {
        return Module::guard(function () use ($params, $action, $mutation, $extra, $lang) {
            if (Module::addonId($params) > 0) {
                return 'success'; // a traffic addon has nothing on the router to suspend or remove
            }
            $client = new GraphQLClient(null, $lang ?: Lang::forAdmin());
            ServerRecord::ensureRouter($client, $params);
            $client->call($action, $mutation, ['s' => (int) $params['serviceid']] + $extra);
            return 'success';
        });
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
