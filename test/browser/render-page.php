<?php
/**
 * Test equipment for the browser tests: renders what WHMCS would show for one service, with the real
 * module (its token minting, strings and templates) and real Smarty, through the WHMCS stand-in of
 * the bridge tests. Prints the HTML on stdout.
 *
 *   php render-page.php client <serviceId> <language>   the client-area overview (clientarea.tpl)
 *   php render-page.php admin <serviceId> <language>    the admin service page's usage field
 *
 * Environment: BRIDGE_DB_DSN, BRIDGE_DB_USER, BRIDGE_DB_PASSWORD (the test database) and
 * MIKROTIKVPN_CONFIG (the module's config file).
 */

require_once __DIR__ . '/../bridge/whmcs-standin/bootstrap.php';

use WhmcsStandIn\StandIn;

[$script, $screen, $serviceId, $language] = $argv + [null, 'client', '0', 'english'];
$serviceId = (int) $serviceId;

if ($screen === 'client') {
    $_SESSION = ['Language' => $language];
    $result = StandIn::call('ClientArea', StandIn::params($serviceId));
    echo StandIn::renderClientArea($result);
} elseif ($screen === 'admin') {
    $_SESSION = ['adminlang' => $language];
    $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
    $title = \WHMCS\Module\Server\MikrotikVpn\Lang::load($language)['usage_title'] ?? 'Traffic statistics';
    if (!isset($fields[$title])) {
        fwrite(STDERR, 'no usage field in: ' . implode(', ', array_keys($fields)) . "\n");
        exit(1);
    }
    // WHMCS shows each field as a row of a two-column table.
    echo '<table class="form">';
    foreach ($fields as $label => $html) {
        echo '<tr><td class="fieldlabel">' . htmlspecialchars($label) . '</td><td class="fieldarea">' . $html . '</td></tr>';
    }
    echo '</table>';
} else {
    fwrite(STDERR, "usage: php render-page.php client|admin <serviceId> <language>\n");
    exit(2);
}
