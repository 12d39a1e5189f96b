<?php

namespace WHMCS\Module\Server\MikrotikVpn;

use WHMCS\Database\Capsule;

/**
 * The few WHMCS rows the bridge reads or writes itself, through WHMCS's Capsule query builder.
 * Writes are limited to what WHMCS expects a server module to write: the service's username,
 * password and dedicated IP, its bandwidth usage columns, and the module's own email templates.
 */
class Whmcs
{
    const MODULE = 'mikrotikvpn';

    /** @return object|null */
    public static function service(int $serviceId)
    {
        return Capsule::table('tblhosting')->where('id', $serviceId)->first();
    }

    /** @param array<string,mixed> $values */
    public static function updateService(int $serviceId, array $values): void
    {
        Capsule::table('tblhosting')->where('id', $serviceId)->update($values);
    }

    /** @return object|null */
    public static function client(int $clientId)
    {
        return Capsule::table('tblclients')->where('id', $clientId)->first();
    }

    public static function clientLanguage(int $clientId): string
    {
        $client = self::client($clientId);
        return $client && isset($client->language) ? (string) $client->language : '';
    }

    public static function systemLanguage(): string
    {
        try {
            $value = Capsule::table('tblconfiguration')->where('setting', 'Language')->value('value');
        } catch (\Throwable $e) {
            $value = null;
        }
        return $value ? (string) $value : 'english';
    }

    /** True inside WHMCS's admin area (every admin page defines ADMINAREA before loading WHMCS). */
    public static function inAdminArea(): bool
    {
        return defined('ADMINAREA');
    }

    /**
     * The client the visitor is logged in as (WHMCS 8: the current user's active client; before: the
     * session's uid); 0 when nobody is logged in.
     */
    public static function loggedInClientId(): int
    {
        if (class_exists('WHMCS\\Authentication\\CurrentUser')) {
            try {
                $client = (new \WHMCS\Authentication\CurrentUser())->client();
                if ($client) {
                    return (int) $client->id;
                }
            } catch (\Throwable $e) {
                // fall back to the session
            }
        }
        return isset($_SESSION['uid']) ? (int) $_SESSION['uid'] : 0;
    }

    /** WHMCS's CSRF token for links that run a module function (generate_token('plain')); '' outside WHMCS. */
    public static function csrfToken(): string
    {
        return function_exists('generate_token') ? (string) generate_token('plain') : '';
    }

    /** The server to ask for a product's settings dropdowns: its server group's first, else any of ours. */
    public static function serverForProduct(int $productId): int
    {
        $product = $productId > 0 ? Capsule::table('tblproducts')->where('id', $productId)->first() : null;
        if ($product && (int) $product->servergroup > 0) {
            $id = Capsule::table('tblservergroupsrel')
                ->join('tblservers', 'tblservers.id', '=', 'tblservergroupsrel.serverid')
                ->where('tblservergroupsrel.groupid', (int) $product->servergroup)
                ->where('tblservers.type', self::MODULE)
                ->where('tblservers.disabled', 0)
                ->orderBy('tblservers.id')
                ->value('tblservers.id');
            if ($id) {
                return (int) $id;
            }
        }
        $id = Capsule::table('tblservers')->where('type', self::MODULE)->where('disabled', 0)->orderBy('id')->value('id');
        return $id ? (int) $id : 0;
    }

    /** @return string[] names of the product email templates (for the settings dropdowns) */
    public static function productEmailTemplates(): array
    {
        $names = [];
        foreach (Capsule::table('tblemailtemplates')->where('type', 'product')->where('language', '')
            ->orderBy('name')->get() as $row) {
            $names[] = (string) $row->name;
        }
        return $names;
    }

    /** Creates an email template when none has that name; returns true when it created one. */
    public static function ensureEmailTemplate(string $name, string $subject, string $message): bool
    {
        if (Capsule::table('tblemailtemplates')->where('type', 'product')->where('name', $name)->first()) {
            return false;
        }
        $now = date('Y-m-d H:i:s');
        Capsule::table('tblemailtemplates')->insert([
            'type' => 'product',
            'name' => $name,
            'subject' => $subject,
            'message' => $message,
            'attachments' => '',
            'fromname' => '',
            'fromemail' => '',
            'disabled' => 0,
            'custom' => 1,
            'language' => '',
            'copyto' => '',
            'blind_copy_to' => '',
            'plaintext' => 0,
            'created_at' => $now,
            'updated_at' => $now,
        ]);
        return true;
    }

    /**
     * Addons of this module offered for a product, with their price in a currency.
     *
     * @return array<int,array{id:int,name:string,billingcycle:string,price:?string,cycle:string}>
     */
    public static function trafficAddons(int $productId, int $currencyId): array
    {
        $currency = self::currency($currencyId);
        $result = [];
        foreach (Capsule::table('tbladdons')->where('module', self::MODULE)->where('hidden', 0)
            ->where('retired', 0)->orderBy('weight')->orderBy('name')->get() as $addon) {
            $packages = array_filter(array_map('intval', explode(',', (string) $addon->packages)));
            if (!in_array($productId, $packages, true)) {
                continue;
            }
            $pricing = $currency
                ? Capsule::table('tblpricing')->where('type', 'addon')->where('relid', $addon->id)
                    ->where('currency', $currency->id)->first()
                : null;
            list($amount, $cycle) = self::addonPrice($addon, $pricing);
            $result[] = [
                'id' => (int) $addon->id,
                'name' => (string) $addon->name,
                'billingcycle' => (string) $addon->billingcycle,
                'price' => $amount === null ? null : self::money($amount, $currency),
                'cycle' => $cycle,
            ];
        }
        return $result;
    }

    /** @return array{0:?string,1:string} amount and cycle key (free, onetime, monthly, ...) */
    private static function addonPrice($addon, $pricing): array
    {
        $billing = strtolower(str_replace([' ', '-'], '', (string) $addon->billingcycle));
        if ($billing === 'free' || $billing === 'freeaccount') {
            return [null, 'free'];
        }
        if (!$pricing) {
            return [null, $billing === 'onetime' ? 'onetime' : 'monthly'];
        }
        if ($billing === 'onetime') {
            return [(string) $pricing->monthly, 'onetime'];
        }
        foreach (['monthly', 'quarterly', 'semiannually', 'annually', 'biennially', 'triennially'] as $cycle) {
            if (isset($pricing->$cycle) && (float) $pricing->$cycle >= 0) {
                return [(string) $pricing->$cycle, $cycle];
            }
        }
        return [null, 'monthly'];
    }

    /** @return object|null tblcurrencies row (the default one when the id is unknown) */
    public static function currency(int $currencyId)
    {
        try {
            $row = $currencyId > 0 ? Capsule::table('tblcurrencies')->where('id', $currencyId)->first() : null;
            return $row ?: Capsule::table('tblcurrencies')->where('default', 1)->first();
        } catch (\Throwable $e) {
            return null;
        }
    }

    private static function money(string $amount, $currency): string
    {
        $value = number_format((float) $amount, 2, '.', '');
        if (!$currency) {
            return $value;
        }
        return trim((string) $currency->prefix . $value . (string) $currency->suffix);
    }
}
