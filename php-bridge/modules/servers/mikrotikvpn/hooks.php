<?php
/**
 * MikroTik VPN hooks: traffic collection after WHMCS's cron, the notification outbox into WHMCS
 * emails, traffic addons credited when WHMCS activates or renews them, and the product's quota policy
 * saved with the product.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/bootstrap.php';

use WHMCS\Module\Server\MikrotikVpn\Hooks;
use WHMCS\Module\Server\MikrotikVpn\PolicyScreen;

add_hook('AfterCronJob', 1, function ($vars) {
    Hooks::afterCron();
});

add_hook('DailyCronJob', 1, function ($vars) {
    Hooks::dailyCron();
});

add_hook('AddonActivation', 1, function ($vars) {
    Hooks::addon('AddonActivation', is_array($vars) ? $vars : []);
});

add_hook('AddonRenewal', 1, function ($vars) {
    Hooks::addon('AddonRenewal', is_array($vars) ? $vars : []);
});

// The quota policy inputs drawn below the product's module settings are saved with the product.
add_hook('ProductEdit', 1, function ($vars) {
    PolicyScreen::productEdit(is_array($vars) ? $vars : [], $_POST);
});
