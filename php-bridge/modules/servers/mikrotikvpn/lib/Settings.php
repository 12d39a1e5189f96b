<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The product settings manifest (product-settings.json), shared with the GraphQL server. Its order is
 * WHMCS's configoption1..N; the bridge only reads it.
 */
class Settings
{
    /** @var array<string,mixed>|null */
    private static $manifest = null;

    /** @return array<int,array<string,mixed>> the settings, in configoption order (index 0 = configoption1) */
    public static function all(): array
    {
        return self::section('settings');
    }

    /** @return array<int,array<string,mixed>> a traffic addon's module settings, in configoption order */
    public static function addonAll(): array
    {
        return self::section('addonSettings');
    }

    /**
     * @return array<int,array<string,mixed>> the quota policy's settings: not module settings (WHMCS's
     * slots are nearly all taken) but the server's own table, edited below the module settings
     */
    public static function policyAll(): array
    {
        return self::section('policySettings');
    }

    /** The manifest entry of a quota policy setting. */
    public static function policySpec(string $key): array
    {
        foreach (self::policyAll() as $spec) {
            if ($spec['key'] === $key) {
                return $spec;
            }
        }
        throw new \RuntimeException('unknown policy setting ' . $key);
    }

    /** @return array<int,array<string,mixed>> */
    private static function section(string $name): array
    {
        if (self::$manifest === null) {
            $json = json_decode((string) file_get_contents(dirname(__DIR__) . '/product-settings.json'), true);
            if (!is_array($json) || !isset($json['settings'], $json['addonSettings']) || !is_array($json['settings'])) {
                throw new \RuntimeException('product-settings.json is missing or malformed');
            }
            self::$manifest = $json;
        }
        return array_values(self::$manifest[$name]);
    }

    /** configoptionN index (1-based) of a manifest key. */
    public static function index(string $key): int
    {
        foreach (self::all() as $i => $spec) {
            if ($spec['key'] === $key) {
                return $i + 1;
            }
        }
        throw new \RuntimeException('unknown product setting ' . $key);
    }

    /** A product setting from $params (configoptionN), or its default when empty. */
    public static function value(array $params, string $key): string
    {
        $index = self::index($key);
        $value = isset($params['configoption' . $index]) ? trim((string) $params['configoption' . $index]) : '';
        if ($value === '') {
            $spec = self::all()[$index - 1];
            $value = isset($spec['default']) ? (string) $spec['default'] : '';
        }
        return $value;
    }
}
