<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The router behind a WHMCS server record: RouterInput from the server params, and Test Connection.
 */
class ServerRecord
{
    /** Placeholder server id for "Test Connection" on a server record that is not saved yet. */
    const UNSAVED_SERVER_ID = 2147483647;

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
        throw new BridgeException(ErrorCode::VALIDATION, Lang::forAdmin()->t('err_access_hash'));
    }

    /** upsertRouter with the current server params (idempotent); returns the router id. */
    public static function ensureRouter(GraphQLClient $client, array $params): string
    {
        if (empty($params['serverid'])) {
            throw new BridgeException(ErrorCode::VALIDATION, Lang::forAdmin()->t('err_no_server'));
        }
        $data = $client->call(
            'UpsertRouter',
            'mutation($input: RouterInput!) { upsertRouter(input: $input) { id } }',
            ['input' => self::routerInput($params)]
        );
        return (string) $data['upsertRouter']['id'];
    }

    /**
     * What a successful test found: the router, its WireGuard interfaces with their listen ports, and
     * the server's warnings (which also say when there is no WireGuard interface).
     *
     * @param array<string,mixed> $result a RouterTestResult
     */
    public static function successMessage(array $result, Lang $lang): string
    {
        $parts = [$lang->t('test_ok', ['identity' => (string) $result['identity'], 'version' => (string) $result['version']])];
        $interfaces = [];
        foreach (isset($result['wireguardInterfaces']) ? $result['wireguardInterfaces'] : [] as $interface) {
            $interfaces[] = $lang->t('wg_interface_port', ['name' => (string) $interface['name'], 'port' => (int) $interface['listenPort']]);
        }
        if ($interfaces) {
            $parts[] = $lang->t('test_wg_interfaces', ['list' => implode(', ', $interfaces)]);
        }
        foreach (isset($result['warnings']) ? $result['warnings'] : [] as $warning) {
            $warning = trim((string) $warning);
            $parts[] = preg_match('/[.!?]$/', $warning) ? $warning : $warning . '.';
        }
        return implode(' ', $parts);
    }

    /**
     * Test Connection: 'success' and 'error' as WHMCS reads them; on success 'message' says what was
     * found (successMessage). The answer with the same details is in the module log.
     */
    public static function testConnection(array $params): array
    {
        $lang = Lang::forAdmin();
        $client = new GraphQLClient(null, $lang);
        try {
            $data = $client->call(
                'TestConnection',
                'mutation($input: RouterInput!) { testRouterConnection(input: $input) { ok identity version profiles problems warnings errorCode wireguardInterfaces { name listenPort } } }',
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
            return ['success' => true, 'error' => '', 'message' => self::successMessage($result, $lang)];
        } catch (BridgeException $e) {
            return ['success' => false, 'error' => $e->getMessage()];
        }
    }
}
