<?php
/**
 * Test equipment: the global WHMCS functions the module calls (logModuleCall, logActivity,
 * localAPI, add_hook, encrypt/decrypt, generate_token), recording what they are given so tests can
 * assert on it.
 */

use WhmcsStandIn\StandIn;

if (!defined('WHMCS')) {
    define('WHMCS', true);
}

/**
 * WHMCS's module log: arrays are rendered as text and every value of $replaceVars is masked with
 * asterisks in request, response and processed data before anything is stored.
 */
function logModuleCall($module, $action, $request, $response, $data = '', $replaceVars = [])
{
    $render = function ($value) {
        return is_string($value) ? $value : print_r($value, true);
    };
    $entry = [
        'module' => $module,
        'action' => $action,
        'request' => $render($request),
        'response' => $render($response),
        'data' => $render($data),
    ];
    // Kept apart from what WHMCS stores (which is masked below): what the module sent, for tests that
    // assert on the operation's variables.
    $sent = is_array($request) ? $request : null;
    foreach ((array) $replaceVars as $secret) {
        $secret = (string) $secret;
        if ($secret === '') {
            continue;
        }
        foreach (['request', 'response', 'data'] as $k) {
            $entry[$k] = str_replace($secret, str_repeat('*', strlen($secret)), $entry[$k]);
        }
    }
    StandIn::$moduleLog[] = $entry;
    StandIn::$moduleRequests[] = ['action' => $action, 'request' => $sent];
}

function logActivity($message, $userId = 0)
{
    StandIn::$activityLog[] = (string) $message;
}

/** WHMCS's internal API: SendEmail (recorded, switchable to fail) and the password helpers. */
function localAPI($command, $values = [], $adminUser = '')
{
    switch ($command) {
        case 'SendEmail':
            return StandIn::sendEmail((array) $values);
        case 'EncryptPassword':
            return ['result' => 'success', 'password' => encrypt((string) $values['password2'])];
        case 'DecryptPassword':
            return ['result' => 'success', 'password' => decrypt((string) $values['password2'])];
    }
    return ['result' => 'error', 'message' => 'Command not found'];
}

function add_hook($hookPoint, $priority, $callback)
{
    StandIn::$hooks[$hookPoint][] = ['priority' => (int) $priority, 'callback' => $callback];
}

/** WHMCS's reversible encryption of stored passwords, stood in by a marked base64. */
function encrypt($value)
{
    return 'enc:' . base64_encode((string) $value);
}

function decrypt($value)
{
    $value = (string) $value;
    return strpos($value, 'enc:') === 0 ? (string) base64_decode(substr($value, 4)) : $value;
}

/** The admin area's CSRF token (WHMCS: 'plain' = the token, 'link' = "&token=...", 'form' = a hidden input). */
function generate_token($type = 'form')
{
    $token = StandIn::CSRF_TOKEN;
    if ($type === 'plain') {
        return $token;
    }
    return $type === 'link' ? '&token=' . $token : '<input type="hidden" name="token" value="' . $token . '" />';
}
