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

use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\Module;

function mikrotikvpn_MetaData()
{
    return Module::metaData();
}

function mikrotikvpn_ConfigOptions($params = [])
{
    return Module::configOptions(is_array($params) ? $params : []);
}

function mikrotikvpn_LoaderProfiles($params)
{
    return Module::loaderProfiles($params);
}

function mikrotikvpn_LoaderEmailTemplates($params)
{
    return Module::loaderEmailTemplates($params);
}

function mikrotikvpn_TestConnection(array $params)
{
    return Module::testConnection($params);
}

function mikrotikvpn_CreateAccount(array $params)
{
    return Module::createAccount($params);
}

function mikrotikvpn_SuspendAccount(array $params)
{
    return Module::suspendAccount($params);
}

function mikrotikvpn_UnsuspendAccount(array $params)
{
    return Module::unsuspendAccount($params);
}

function mikrotikvpn_TerminateAccount(array $params)
{
    return Module::terminateAccount($params);
}

function mikrotikvpn_ChangePackage(array $params)
{
    return Module::changePackage($params);
}

function mikrotikvpn_ChangePassword(array $params)
{
    return Module::changePassword($params);
}

function mikrotikvpn_Renew(array $params)
{
    return Module::renew($params);
}

function mikrotikvpn_AdminCustomButtonArray()
{
    $lang = Lang::forAdmin();
    return [
        $lang->t('btn_reset_connection') => 'ResetConnection',
        $lang->t('btn_install_templates') => 'InstallEmailTemplates',
    ];
}

function mikrotikvpn_ResetConnection(array $params)
{
    return Module::resetConnection($params);
}

function mikrotikvpn_InstallEmailTemplates(array $params)
{
    return Module::adminInstallEmailTemplates($params);
}

function mikrotikvpn_AdminServicesTabFields(array $params)
{
    return Module::adminServicesTabFields($params);
}

function mikrotikvpn_UsageUpdate(array $params)
{
    return Module::usageUpdate($params);
}

function mikrotikvpn_ListAccounts(array $params)
{
    return Module::listAccounts($params);
}

function mikrotikvpn_ClientArea(array $params)
{
    return Module::clientArea($params);
}
