<?php
/**
 * Test equipment: what WHMCS does around a server module, for the PHPUnit tests. It builds $params
 * exactly as docs/whmcs.md §1 documents them from the WHMCS tables in the test database, calls the
 * module functions by name, runs hooks, and renders client-area templates with real Smarty.
 */

namespace WhmcsStandIn;

use WHMCS\Database\Capsule;

class StandIn
{
    const MODULE = 'mikrotikvpn';

    /** What generate_token() answers. */
    const CSRF_TOKEN = 'standin-csrf-token';

    /** @var array<int,array<string,string>> */
    public static $moduleLog = [];
    /** @var array<int,array{action:string,request:array<string,mixed>|null}> unmasked, never asserted as the log */
    public static $moduleRequests = [];
    /** @var string[] */
    public static $activityLog = [];
    /** @var array<int,array<string,mixed>> */
    public static $sentEmails = [];
    /** @var array<string,array<int,array{priority:int,callback:callable}>> */
    public static $hooks = [];
    /** @var string|null when set, SendEmail answers this error message */
    public static $sendEmailFailure = null;

    /** @var string */
    public static $moduleDir = '';

    public static function boot(): void
    {
        $dsn = getenv('BRIDGE_DB_DSN');
        if (!$dsn) {
            throw new \RuntimeException('BRIDGE_DB_DSN is not set');
        }
        $pdo = new \PDO($dsn, (string) getenv('BRIDGE_DB_USER'), (string) getenv('BRIDGE_DB_PASSWORD'), [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
        ]);
        $pdo->exec("SET SESSION sql_mode = ''");
        Capsule::setPdo($pdo);
        self::$moduleDir = dirname(__DIR__, 3) . '/php-bridge/modules/servers/' . self::MODULE;
        require_once self::$moduleDir . '/mikrotikvpn.php';
        require_once self::$moduleDir . '/hooks.php';
    }

    public static function resetRecords(): void
    {
        self::$moduleLog = [];
        self::$moduleRequests = [];
        self::$activityLog = [];
        self::$sentEmails = [];
        self::$sendEmailFailure = null;
    }

    /** Calls mikrotikvpn_<Function>($params) as WHMCS does. */
    public static function call(string $function, ...$args)
    {
        $name = self::MODULE . '_' . $function;
        if (!function_exists($name)) {
            throw new \RuntimeException($name . ' does not exist');
        }
        return $name(...$args);
    }

    /**
     * Calls a module function that answers the request itself and ends it (WHMCS\Terminus): returns
     * what it sent. Fails the caller when the function returned instead (then its answer is thrown).
     */
    public static function output(string $function, ...$args): string
    {
        ob_start();
        try {
            $returned = self::call($function, ...$args);
        } catch (ProgramExit $e) {
            return (string) ob_get_clean();
        } catch (\Throwable $e) {
            ob_end_clean();
            throw $e;
        }
        ob_end_clean();
        throw new \RuntimeException(self::MODULE . '_' . $function . ' returned instead of answering: ' . print_r($returned, true));
    }

    /** Runs every callback of a hook point in priority order, as WHMCS's run_hook does. */
    public static function runHook(string $hookPoint, array $vars = []): array
    {
        $hooks = isset(self::$hooks[$hookPoint]) ? self::$hooks[$hookPoint] : [];
        usort($hooks, function ($a, $b) {
            return $a['priority'] <=> $b['priority'];
        });
        $results = [];
        foreach ($hooks as $hook) {
            $results[] = call_user_func($hook['callback'], $vars);
        }
        return $results;
    }

    /** localAPI('SendEmail'): finds the template as WHMCS does, records the email, or fails on demand. */
    public static function sendEmail(array $values): array
    {
        $name = isset($values['messagename']) ? (string) $values['messagename'] : '';
        $template = Capsule::table('tblemailtemplates')->where('name', $name)->where('language', '')->first();
        if (!$template) {
            return ['result' => 'error', 'message' => 'Email Template not found'];
        }
        if ((int) $template->disabled === 1) {
            return ['result' => 'error', 'message' => 'Email Template is disabled'];
        }
        $serviceId = isset($values['id']) ? (int) $values['id'] : 0;
        if ($template->type === 'product' && !Capsule::table('tblhosting')->where('id', $serviceId)->first()) {
            return ['result' => 'error', 'message' => 'Sending Failed: related service not found'];
        }
        if (self::$sendEmailFailure !== null) {
            return ['result' => 'error', 'message' => self::$sendEmailFailure];
        }
        $customvars = isset($values['customvars']) ? $values['customvars'] : [];
        if (is_string($customvars)) {
            $customvars = unserialize(base64_decode($customvars));
        }
        self::$sentEmails[] = ['messagename' => $name, 'id' => $serviceId, 'customvars' => $customvars];
        return ['result' => 'success'];
    }

    // ------------------------------------------------------------------ $params as WHMCS builds them

    /** The server part of $params (also what UsageUpdate and TestConnection get). */
    public static function serverParams(int $serverId): array
    {
        $server = Capsule::table('tblservers')->where('id', $serverId)->first();
        if (!$server) {
            return ['server' => false, 'serverid' => 0, 'serverip' => '', 'serverhostname' => '',
                'serverusername' => '', 'serverpassword' => '', 'serveraccesshash' => '',
                'serversecure' => false, 'serverhttpprefix' => 'http', 'serverport' => ''];
        }
        $secure = (string) $server->secure === 'on';
        $meta = call_user_func(self::MODULE . '_MetaData');
        $port = $server->port !== null && (int) $server->port > 0
            ? (int) $server->port
            : (int) ($secure ? $meta['DefaultSSLPort'] : $meta['DefaultNonSSLPort']);
        return [
            'server' => true,
            'serverid' => (int) $server->id,
            'serverip' => (string) $server->ipaddress,
            'serverhostname' => (string) $server->hostname,
            'serverusername' => (string) $server->username,
            'serverpassword' => decrypt((string) $server->password),
            'serveraccesshash' => (string) $server->accesshash,
            'serversecure' => $secure,
            'serverhttpprefix' => $secure ? 'https' : 'http',
            'serverport' => $port,
        ];
    }

    /** $params of a service (tblhosting.id), as WHMCS passes them to every module function. */
    public static function params(int $serviceId, array $overrides = []): array
    {
        $service = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        if (!$service) {
            throw new \RuntimeException('no service ' . $serviceId);
        }
        $product = Capsule::table('tblproducts')->where('id', $service->packageid)->first();
        $client = Capsule::table('tblclients')->where('id', $service->userid)->first();
        $params = [
            'whmcsVersion' => '8.10.1-release.1',
            'accountid' => (int) $service->id,
            'serviceid' => (int) $service->id,
            'addonId' => 0,
            'userid' => (int) $service->userid,
            'domain' => (string) $service->domain,
            'username' => (string) $service->username,
            'password' => decrypt((string) $service->password),
            'packageid' => (int) $service->packageid,
            'pid' => (int) $service->packageid,
            'status' => (string) $service->domainstatus,
            'type' => $product ? (string) $product->type : '',
            'producttype' => $product ? (string) $product->type : '',
            'moduletype' => $product ? (string) $product->servertype : '',
            'customfields' => [],
            'configoptions' => [],
            'model' => $service,
        ];
        for ($i = 1; $i <= 24; $i++) {
            $params['configoption' . $i] = $product ? (string) $product->{'configoption' . $i} : '';
        }
        $params['clientsdetails'] = $client ? [
            'userid' => (int) $client->id,
            'id' => (int) $client->id,
            'firstname' => (string) $client->firstname,
            'lastname' => (string) $client->lastname,
            'fullname' => trim($client->firstname . ' ' . $client->lastname),
            'companyname' => (string) $client->companyname,
            'email' => (string) $client->email,
            'address1' => (string) $client->address1,
            'city' => (string) $client->city,
            'country' => (string) $client->country,
            'language' => (string) $client->language,
            'currency' => (int) $client->currency,
        ] : [];
        if ((string) $service->suspendreason !== '') {
            $params['suspendreason'] = (string) $service->suspendreason;
        }
        $params += self::serverParams((int) $service->server);
        return array_merge($params, $overrides);
    }

    /** $params of a module call for a product addon: the parent's, plus addonId and the addon's settings. */
    public static function addonParams(int $hostingAddonId): array
    {
        $row = Capsule::table('tblhostingaddons')->where('id', $hostingAddonId)->first();
        $params = self::params((int) $row->hostingid);
        $params['addonId'] = (int) $row->id;
        $params['model'] = $row;
        for ($i = 1; $i <= 24; $i++) {
            $params['configoption' . $i] = (string) Capsule::table('tblmodule_configuration')
                ->where('entity_type', 'addon')->where('entity_id', (int) $row->addonid)
                ->where('setting_name', 'configoption' . $i)->value('value');
        }
        if ((int) $row->server > 0) {
            $params = array_merge($params, self::serverParams((int) $row->server));
        }
        return $params;
    }

    // ------------------------------------------------------------------ client area

    /**
     * Renders what a ClientArea function returned with real Smarty (Debian's smarty4 or smarty3),
     * with a security policy as WHMCS 8 enables, and the variables WHMCS gives every template.
     */
    public static function renderClientArea(array $result, array $whmcsVars = []): string
    {
        foreach (['/usr/share/php/smarty4/Smarty.class.php', '/usr/share/php/smarty3/Smarty.class.php'] as $file) {
            if (is_file($file)) {
                require_once $file;
                break;
            }
        }
        if (!class_exists('Smarty')) {
            throw new \RuntimeException('Smarty is not installed (smarty4 or smarty3)');
        }
        $smarty = new \Smarty();
        $tmp = sys_get_temp_dir() . '/mvpn-smarty-' . getmypid();
        @mkdir($tmp . '/c', 0700, true);
        $smarty->setCompileDir($tmp . '/c');
        $smarty->setCacheDir($tmp);
        $smarty->setTemplateDir(self::$moduleDir);
        $smarty->enableSecurity();
        $smarty->error_reporting = E_ALL & ~E_NOTICE & ~E_WARNING;
        foreach ($whmcsVars + ['token' => self::CSRF_TOKEN, 'LANG' => []] as $k => $v) {
            $smarty->assign($k, $v);
        }
        foreach ($result['templateVariables'] as $k => $v) {
            $smarty->assign($k, $v);
        }
        try {
            return $smarty->fetch(self::$moduleDir . '/' . $result['tabOverviewModuleOutputTemplate']);
        } finally {
            // Compiled templates are this call's only: a test run leaves no /tmp/mvpn-smarty-* behind.
            self::removeTree($tmp);
        }
    }

    private static function removeTree(string $dir): void
    {
        if (!is_dir($dir) || is_link($dir)) {
            return;
        }
        foreach (scandir($dir) ?: [] as $entry) {
            if ($entry === '.' || $entry === '..') {
                continue;
            }
            $path = $dir . '/' . $entry;
            is_dir($path) && !is_link($path) ? self::removeTree($path) : @unlink($path);
        }
        @rmdir($dir);
    }
}
