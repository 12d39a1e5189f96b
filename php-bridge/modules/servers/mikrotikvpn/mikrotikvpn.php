<?php
/**
 * MikroTik VPN: a WHMCS server module that sells VPN accounts on MikroTik RouterOS 7 routers.
 *
 * The module is a thin bridge: every function below translates WHMCS's call into one operation of
 * the product's GraphQL server (configured in config.php) and renders its answer. See
 * docs/whmcs-setup.md for the setup.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/bootstrap.php';

use WHMCS\Module\Server\MikrotikVpn\AddressLookup;
use WHMCS\Module\Server\MikrotikVpn\AdminScreen;
use WHMCS\Module\Server\MikrotikVpn\ClientProxy;
use WHMCS\Module\Server\MikrotikVpn\ClientScreen;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\Lifecycle;
use WHMCS\Module\Server\MikrotikVpn\ProductSetup;
use WHMCS\Module\Server\MikrotikVpn\ServerRecord;
use WHMCS\Module\Server\MikrotikVpn\Sync;
use WHMCS\Module\Server\MikrotikVpn\TrafficMetrics;

function mikrotikvpn_MetaData()
{
    return ProductSetup::metaData();
}

function mikrotikvpn_ConfigOptions($params = [])
{
    return ProductSetup::configOptions(is_array($params) ? $params : []);
}

function mikrotikvpn_LoaderProfiles($params)
{
    return ProductSetup::loaderProfiles($params);
}

function mikrotikvpn_LoaderWireguardInterfaces($params)
{
    return ProductSetup::loaderWireguardInterfaces($params);
}

function mikrotikvpn_LoaderEmailTemplates($params)
{
    return ProductSetup::loaderEmailTemplates($params);
}

function mikrotikvpn_TestConnection(array $params)
{
    return ServerRecord::testConnection($params);
}

function mikrotikvpn_CreateAccount(array $params)
{
    return Lifecycle::createAccount($params);
}

function mikrotikvpn_SuspendAccount(array $params)
{
    return Lifecycle::suspendAccount($params);
}

function mikrotikvpn_UnsuspendAccount(array $params)
{
    return Lifecycle::unsuspendAccount($params);
}

function mikrotikvpn_TerminateAccount(array $params)
{
    return Lifecycle::terminateAccount($params);
}

function mikrotikvpn_ChangePackage(array $params)
{
    return Lifecycle::changePackage($params);
}

function mikrotikvpn_ChangePassword(array $params)
{
    return Lifecycle::changePassword($params);
}

function mikrotikvpn_Renew(array $params)
{
    return Lifecycle::renew($params);
}

/** WHMCS passes the service's params; "New WireGuard keys" only for WireGuard products (always without params). */
function mikrotikvpn_AdminCustomButtonArray($params = [])
{
    $lang = Lang::forAdmin();
    $buttons = [
        $lang->t('btn_reset_connection') => 'ResetConnection',
        $lang->t('btn_install_templates') => 'InstallEmailTemplates',
    ];
    if (ProductSetup::offersWireGuard(is_array($params) ? $params : [])) {
        $buttons[$lang->t('btn_new_wg_keys')] = 'NewWireGuardKeys';
    }
    return $buttons;
}

function mikrotikvpn_ResetConnection(array $params)
{
    return Lifecycle::resetConnection($params);
}

function mikrotikvpn_NewWireGuardKeys(array $params)
{
    return Lifecycle::adminNewWireGuardKeys($params);
}

/** The client's own actions: "New keys" for WireGuard products, in the client's language. */
function mikrotikvpn_ClientAreaCustomButtonArray($params = [])
{
    $params = is_array($params) ? $params : [];
    if (!ProductSetup::offersWireGuard($params)) {
        return [];
    }
    $lang = Lang::forClient(isset($params['userid']) ? (int) $params['userid'] : 0);
    return [$lang->t('wg_new_keys') => 'newKeys'];
}

/** Client-callable functions without a button: the usage page's data requests (proxy mode). */
function mikrotikvpn_ClientAreaAllowedFunctions()
{
    return [ClientProxy::ACTION];
}

/**
 * The usage page's data (proxy mode): clientarea.php?action=productdetails&id=<service>&modop=custom&
 * a=usageData from the client area (WHMCS opens it only for the service's owner, and the module
 * checks the login again), or the admin service page's command. Forwards one of the page's own
 * operations with its client token and answers JSON.
 */
function mikrotikvpn_usageData(array $params)
{
    ClientProxy::run($params);
}

function mikrotikvpn_newKeys(array $params)
{
    return Lifecycle::clientNewKeys($params);
}

function mikrotikvpn_InstallEmailTemplates(array $params)
{
    return ProductSetup::adminInstallEmailTemplates($params);
}

function mikrotikvpn_AdminServicesTabFields(array $params)
{
    return AdminScreen::adminServicesTabFields($params);
}

/**
 * Admin area only, linked from the service tab (WHMCS runs it at clientsservices.php?modop=custom&
 * ac=SessionsCsv with its CSRF token): every session of the service as a CSV download. Not a
 * button, as WHMCS runs buttons through AJAX; not in ClientAreaCustomButtonArray, so clients can not
 * run it (and it checks that it runs in the admin area).
 */
function mikrotikvpn_SessionsCsv(array $params)
{
    return AdminScreen::sessionsCsv($params);
}

/** Admin area only, linked from the service tab like SessionsCsv: the "Who had this address?" page. */
function mikrotikvpn_AddressOwner(array $params)
{
    return AddressLookup::run($params);
}

function mikrotikvpn_UsageUpdate(array $params)
{
    return Sync::usageUpdate($params);
}

/**
 * Usage Billing (WHMCS 7.9+): the "Traffic" metric (GB per month) for overage billing. The provider
 * class is loaded here, not with the others, because it implements an interface older WHMCS lacks.
 */
function mikrotikvpn_MetricProvider(array $params)
{
    require_once __DIR__ . '/lib/TrafficMetrics.php';
    return new TrafficMetrics($params);
}

function mikrotikvpn_ListAccounts(array $params)
{
    return Sync::listAccounts($params);
}

function mikrotikvpn_ClientArea(array $params)
{
    return ClientScreen::clientArea($params);
}
