<?php
/**
 * Test equipment for the browser tests: a WHMCS stand-in web site for PHP's built-in web server
 * (`php -S 127.0.0.1:<port> -t php-bridge test/browser/whmcs-site.php`), so that the browser talks to
 * one origin, as customers talk to WHMCS:
 *
 *   /dologin.php?uid=<client>        logs in as that client (a PHP session, as WHMCS keeps one)
 *   /clientarea.php?action=productdetails&id=<service>
 *                                    the client area's service page: the module's ClientArea through
 *                                    real Smarty, wrapped in a page
 *   /clientarea.php?action=productdetails&id=<service>&modop=custom&a=<function>
 *                                    a client-callable module function, as WHMCS runs it
 *   /modules/servers/mikrotikvpn/js/*.js   the module's files, as the web server serves them
 *
 * The stand-in leaves the question whose service it is to the module: WHMCS also refuses a service
 * of another client, but the test must see that the module's own check holds.
 *
 * Environment: BRIDGE_DB_DSN, BRIDGE_DB_USER, BRIDGE_DB_PASSWORD, MIKROTIKVPN_CONFIG.
 */

$path = (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if (preg_match('#^/modules/servers/mikrotikvpn/js/[a-z0-9.-]+\.js$#', $path)) {
    return false; // the built-in server sends the file itself
}

require_once __DIR__ . '/../bridge/whmcs-standin/bootstrap.php';

use WhmcsStandIn\ProgramExit;
use WhmcsStandIn\StandIn;

session_start();

if ($path === '/dologin.php') {
    $_SESSION['uid'] = (int) ($_GET['uid'] ?? 0);
    $_SESSION['Language'] = (string) ($_GET['language'] ?? 'english');
    header('Content-Type: text/plain');
    echo 'logged in as client ' . $_SESSION['uid'];
    return true;
}

if ($path !== '/clientarea.php' || ($_GET['action'] ?? '') !== 'productdetails') {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo 'not found';
    return true;
}

$serviceId = (int) ($_GET['id'] ?? 0);
$params = StandIn::params($serviceId);

if (($_GET['modop'] ?? '') === 'custom') {
    // WHMCS runs only what the module lets clients run: its buttons and its allowed functions.
    $function = (string) ($_GET['a'] ?? '');
    $buttons = array_values((array) StandIn::call('ClientAreaCustomButtonArray', $params));
    $allowed = array_merge($buttons, (array) StandIn::call('ClientAreaAllowedFunctions'));
    if (!in_array($function, $allowed, true)) {
        http_response_code(403);
        header('Content-Type: text/plain');
        echo 'not a client function';
        return true;
    }
    try {
        $result = StandIn::call($function, $params);
    } catch (ProgramExit $e) {
        return true; // the function answered the request itself
    }
    header('Content-Type: text/plain');
    echo is_string($result) ? $result : print_r($result, true);
    return true;
}

$html = StandIn::renderClientArea(StandIn::call('ClientArea', $params));
header('Content-Type: text/html; charset=utf-8');
echo '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>My Services</title></head>'
    . '<body><main style="max-width:1040px;margin:0 auto">' . $html . '</main></body></html>';
return true;
