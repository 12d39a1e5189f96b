<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The bridge's own configuration: `config.php` next to mikrotikvpn.php (copied from
 * config.example.php), or the file named by the MIKROTIKVPN_CONFIG environment variable.
 */
class Config
{
    /** @var array<string,mixed>|null */
    private static $cache = null;

    /** @return array<string,mixed> */
    public static function get(): array
    {
        if (self::$cache !== null) {
            return self::$cache;
        }
        $file = getenv('MIKROTIKVPN_CONFIG') ?: dirname(__DIR__) . '/config.php';
        $values = is_file($file) ? include $file : [];
        if (!is_array($values)) {
            $values = [];
        }
        $values += [
            'graphql_url' => '',
            'api_key' => '',
            // 'proxy': the usage page goes through WHMCS (the module's usageData action); 'direct':
            // the customer's browser calls browser_graphql_url (the server's CLIENT_PORT listener).
            'client_area_mode' => 'proxy',
            'browser_graphql_url' => '',
            'connect_timeout' => 5,
            'timeout' => 30,
            'no_proxy' => '127.0.0.1,localhost,::1',
        ];
        $values['client_area_mode'] = $values['client_area_mode'] === 'direct' ? 'direct' : 'proxy';
        if ($values['browser_graphql_url'] === '') {
            $values['browser_graphql_url'] = $values['graphql_url'];
        }
        return self::$cache = $values;
    }

    /** Forgets the loaded file (tests switch configurations). */
    public static function reset(): void
    {
        self::$cache = null;
    }
}
