<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Config;
use WHMCS\Module\Server\MikrotikVpn\Settings;
use WhmcsStandIn\StandIn;

/**
 * Helpers for the bridge tests: WHMCS rows written the way WHMCS writes them, the server's
 * GraphQL API read directly (to check what the bridge did), and the simulated router's outside world.
 */
abstract class BridgeTestCase extends TestCase
{
    const ROUTER_PASSWORD = 'router-pass';

    /** @var int shared server record (one simulated router with a large address list) */
    protected static $serverId = 0;
    /** @var int */
    protected static $productId = 0;
    /** @var int */
    protected static $clientId = 0;
    /** @var array<string,mixed>|null */
    private static $simInfo = null;

    protected function setUp(): void
    {
        StandIn::resetRecords();
        unset($_SESSION['Language'], $_SESSION['adminlang'], $_SERVER['SCRIPT_NAME'], $_REQUEST['id']);
        $this->useConfig([]);
        if (self::$serverId === 0) {
            self::$clientId = $this->client();
            self::$serverId = $this->server();
            self::$productId = $this->product();
        }
    }

    /** Writes config.php for the module (graphql_url and api_key from the mocha side) and uses it. */
    protected function useConfig(array $overrides): void
    {
        $config = array_merge([
            'graphql_url' => getenv('BRIDGE_GRAPHQL_URL'),
            'api_key' => getenv('BRIDGE_API_KEY'),
            'connect_timeout' => 3,
            'timeout' => 20,
        ], $overrides);
        $file = getenv('BRIDGE_WORK_DIR') . '/config-' . md5(serialize($config)) . '.php';
        file_put_contents($file, '<?php return ' . var_export($config, true) . ';');
        putenv('MIKROTIKVPN_CONFIG=' . $file);
        Config::reset();
    }

    // ------------------------------------------------------------------ the simulated router

    /** @return mixed */
    protected function sim(string $action, array $body = [])
    {
        $ch = curl_init(getenv('BRIDGE_SIM_CONTROL') . '/' . $action);
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => json_encode((object) $body),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json'],
            CURLOPT_NOPROXY => '*',
        ]);
        $raw = curl_exec($ch);
        curl_close($ch);
        $decoded = json_decode((string) $raw, true);
        if (!is_array($decoded) || isset($decoded['error'])) {
            throw new RuntimeException('simulator control ' . $action . ': ' . $raw);
        }
        return $decoded['result'];
    }

    protected function simInfo(): array
    {
        if (self::$simInfo === null) {
            self::$simInfo = $this->sim('info');
        }
        return self::$simInfo;
    }

    // ------------------------------------------------------------------ the GraphQL server, directly

    protected function gql(string $query, array $variables = [], ?string $key = null): array
    {
        $ch = curl_init(getenv('BRIDGE_GRAPHQL_URL'));
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => json_encode(['query' => $query, 'variables' => (object) $variables]),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json', 'Authorization: Bearer ' . ($key ?: getenv('BRIDGE_API_KEY'))],
            CURLOPT_NOPROXY => '*',
        ]);
        $raw = curl_exec($ch);
        curl_close($ch);
        return json_decode((string) $raw, true);
    }

    protected function account(int $serviceId): ?array
    {
        $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { username status statusReason address traffic { balanceBytes cycleAllowanceBytes unlimited } } }', ['s' => $serviceId]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        return $r['data']['vpnAccount'];
    }

    /** Top-ups of a service straight from the server's ledger table. */
    protected function topUps(int $serviceId, ?string $kind = null): array
    {
        $sql = 'SELECT t.kind, t.bytes, t.idempotency_key, t.invoice_id, t.description FROM mod_mikrotikvpn_traffic_topups t
                JOIN mod_mikrotikvpn_accounts a ON a.id = t.account_id WHERE a.service_id = ?' . ($kind ? ' AND t.kind = ?' : '') . ' ORDER BY t.id';
        $st = Capsule::pdo()->prepare($sql);
        $st->execute($kind ? [$serviceId, $kind] : [$serviceId]);
        return $st->fetchAll(PDO::FETCH_ASSOC);
    }

    // ------------------------------------------------------------------ WHMCS rows

    protected function insert(string $table, array $row): int
    {
        return Capsule::table($table)->insertGetId($row);
    }

    protected function client(array $fields = []): int
    {
        $row = array_merge([
            'firstname' => 'Ada', 'lastname' => 'Lovelace', 'companyname' => '', 'email' => 'ada@example.test',
            'address1' => '', 'address2' => '', 'city' => '', 'state' => '', 'postcode' => '', 'country' => 'DE',
            'phonenumber' => '', 'password' => '', 'authmodule' => '', 'authdata' => '', 'currency' => 1,
            'defaultgateway' => '', 'credit' => 0, 'taxexempt' => 0, 'latefeeoveride' => 0, 'overideduenotices' => 0,
            'separateinvoices' => 0, 'disableautocc' => 0, 'datecreated' => '2026-01-01', 'notes' => '',
            'billingcid' => 0, 'securityqid' => 0, 'securityqans' => '', 'groupid' => 0, 'cardlastfour' => '',
            'cardnum' => '', 'startdate' => '', 'expdate' => '', 'issuenumber' => '', 'bankname' => '',
            'banktype' => '', 'bankcode' => '', 'bankacct' => '', 'gatewayid' => '', 'ip' => '', 'host' => '',
            'language' => '', 'pwresetkey' => '', 'emailoptout' => 0, 'overrideautoclose' => 0,
        ], $fields);
        if (!Capsule::table('tblcurrencies')->where('id', 1)->first()) {
            $this->insert('tblcurrencies', ['id' => 1, 'code' => 'EUR', 'prefix' => '', 'suffix' => ' EUR', 'format' => 1, 'rate' => 1, 'default' => 1]);
        }
        return $this->insert('tblclients', $row);
    }

    /** A product of this module; settings by manifest key. */
    protected function product(array $settings = [], string $name = 'VPN 10 GB'): int
    {
        $settings = array_merge([
            'commentPrefix' => 'WHMCS-', 'profile' => 'default', 'service' => 'l2tp', 'downloadMbps' => '20',
            'uploadMbps' => '5', 'trafficMonthlyGb' => '10', 'lowTrafficThresholdGb' => '2',
            'instructionsUrl' => 'https://docs.example.test/vpn-setup', 'protocols' => 'l2tp,sstp',
            'l2tpPsk' => 'shared-psk-123', 'collectionFrequency' => 'cron',
        ], $settings);
        $row = [
            'type' => 'other', 'gid' => 1, 'name' => $name, 'description' => '', 'hidden' => 0,
            'showdomainoptions' => 0, 'stockcontrol' => 0, 'proratabilling' => 0, 'proratadate' => 0,
            'proratachargenextmonth' => 0, 'paytype' => 'recurring', 'allowqty' => 0, 'subdomain' => '',
            'autosetup' => 'payment', 'servertype' => 'mikrotikvpn', 'servergroup' => 0, 'freedomain' => '',
            'freedomainpaymentterms' => '', 'freedomaintlds' => '', 'recurringcycles' => 0, 'autoterminatedays' => 0,
            'configoptionsupgrade' => 0, 'billingcycleupgrade' => '', 'overagesenabled' => '', 'overagesdisklimit' => 0,
            'overagesbwlimit' => 0, 'overagesdiskprice' => 0, 'overagesbwprice' => 0, 'tax' => 0,
            'affiliateonetime' => 0, 'affiliatepaytype' => '', 'affiliatepayamount' => 0, 'retired' => 0, 'is_featured' => 0,
        ];
        for ($i = 1; $i <= 24; $i++) {
            $row['configoption' . $i] = '';
        }
        foreach ($settings as $key => $value) {
            $row['configoption' . Settings::index($key)] = (string) $value;
        }
        return $this->insert('tblproducts', $row);
    }

    /** A server record of this module for the simulated router (CA PEM in the Access Hash). */
    protected function server(array $fields = []): int
    {
        $info = $this->simInfo();
        $row = array_merge([
            'name' => 'Simulated router', 'ipaddress' => '127.0.0.1', 'hostname' => 'vpn.example.test',
            'assignedips' => implode("\r\n", array_map(function ($i) {
                return '10.77.' . intdiv($i, 250) . '.' . ($i % 250 + 2);
            }, range(0, 499))),
            'noc' => '', 'statusaddress' => '', 'maxaccounts' => 0, 'type' => 'mikrotikvpn',
            'username' => 'api', 'password' => encrypt(self::ROUTER_PASSWORD), 'accesshash' => $info['caPem'],
            'secure' => 'on', 'port' => (int) $info['port'], 'active' => 1, 'disabled' => 0,
        ], $fields);
        for ($i = 1; $i <= 5; $i++) {
            $row += ['nameserver' . $i => '', 'nameserver' . $i . 'ip' => ''];
        }
        return $this->insert('tblservers', $row);
    }

    protected function service(array $fields = []): int
    {
        $row = array_merge([
            'userid' => self::$clientId, 'orderid' => 1, 'packageid' => self::$productId, 'server' => self::$serverId,
            'regdate' => '2026-11-01', 'domain' => '', 'paymentmethod' => 'banktransfer', 'billingcycle' => 'Monthly',
            'nextduedate' => '2026-12-01', 'nextinvoicedate' => '2026-12-01', 'domainstatus' => 'Pending',
            'username' => '', 'password' => encrypt('Start-Passw0rd'), 'notes' => '', 'subscriptionid' => '',
            'promoid' => 0, 'suspendreason' => '', 'overideautosuspend' => 0, 'overidesuspenduntil' => '0000-00-00',
            'dedicatedip' => '', 'assignedips' => '', 'ns1' => '', 'ns2' => '', 'diskusage' => 0, 'disklimit' => 0,
            'bwusage' => 0, 'bwlimit' => 0, 'lastupdate' => '0000-00-00 00:00:00',
        ], $fields);
        return $this->insert('tblhosting', $row);
    }

    /** A service created through the module's CreateAccount, as WHMCS does after payment. */
    protected function createdService(array $fields = []): int
    {
        $serviceId = $this->service($fields);
        $result = StandIn::call('CreateAccount', StandIn::params($serviceId));
        $this->assertSame('success', $result);
        Capsule::table('tblhosting')->where('id', $serviceId)->update(['domainstatus' => 'Active']);
        return $serviceId;
    }

    /** A traffic addon definition of this module ("Traffic in GB" = $gb), priced in EUR. */
    protected function trafficAddon(string $gb, array $packages, string $name = 'Traffic 100 GB', string $price = '10.00'): int
    {
        $id = $this->insert('tbladdons', [
            'packages' => implode(',', $packages), 'name' => $name, 'description' => '', 'billingcycle' => 'onetime',
            'tax' => 0, 'showorder' => 1, 'downloads' => '', 'autoactivate' => 'payment', 'suspendproduct' => 0,
            'welcomeemail' => 0, 'type' => 'other', 'module' => 'mikrotikvpn', 'autolinkby' => '',
        ]);
        $this->insert('tblmodule_configuration', [
            'entity_type' => 'addon', 'entity_id' => $id, 'setting_name' => 'configoption1',
            'friendly_name' => 'Traffic in GB', 'value' => $gb,
        ]);
        $this->insert('tblpricing', [
            'type' => 'addon', 'currency' => 1, 'relid' => $id, 'msetupfee' => 0, 'qsetupfee' => 0, 'ssetupfee' => 0,
            'asetupfee' => 0, 'bsetupfee' => 0, 'tsetupfee' => 0, 'monthly' => $price, 'quarterly' => -1,
            'semiannually' => -1, 'annually' => -1, 'biennially' => -1, 'triennially' => -1,
        ]);
        return $id;
    }

    protected function hostingAddon(int $serviceId, int $addonId, array $fields = []): int
    {
        return $this->insert('tblhostingaddons', array_merge([
            'orderid' => 1, 'hostingid' => $serviceId, 'addonid' => $addonId, 'userid' => self::$clientId,
            'server' => 0, 'name' => '', 'qty' => 1, 'billingcycle' => 'One Time', 'tax' => '', 'status' => 'Active',
            'regdate' => '2026-11-05', 'nextduedate' => '0000-00-00', 'nextinvoicedate' => '0000-00-00',
            'paymentmethod' => 'banktransfer', 'notes' => '',
        ], $fields));
    }

    /**
     * A paid invoice with one item (type 'Hosting' or 'Addon', relid); $fields override the invoice row
     * (e.g. 'datepaid', or 'status' => 'Unpaid').
     */
    protected function paidInvoice(string $type, int $relid, string $invoicenum = '', array $fields = []): int
    {
        static $n = 0;
        $n++;
        $id = $this->insert('tblinvoices', array_merge([
            'userid' => self::$clientId, 'invoicenum' => $invoicenum, 'date' => '2026-11-05', 'duedate' => '2026-11-05',
            'datepaid' => sprintf('2026-11-05 10:%02d:00', $n % 60), 'last_capture_attempt' => '0000-00-00 00:00:00',
            'subtotal' => 10, 'credit' => 0, 'tax' => 0, 'tax2' => 0, 'total' => 10, 'taxrate' => 0, 'taxrate2' => 0,
            'status' => 'Paid', 'paymentmethod' => 'banktransfer', 'notes' => '',
        ], $fields));
        $this->insert('tblinvoiceitems', [
            'invoiceid' => $id, 'userid' => self::$clientId, 'type' => $type, 'relid' => $relid,
            'description' => 'item', 'amount' => 10, 'taxed' => 0, 'duedate' => '2026-11-05',
            'paymentmethod' => 'banktransfer', 'notes' => '',
        ]);
        return $id;
    }

    /** The GraphQL variables the module sent with its last call named $action (from the module log). */
    protected function sentVariables(string $action): array
    {
        foreach (array_reverse(StandIn::$moduleRequests) as $entry) {
            if ($entry['action'] === $action && is_array($entry['request'])) {
                return $entry['request']['variables'];
            }
        }
        $this->fail('the module made no ' . $action . ' call');
    }

    /** Every value that must never reach a log. */
    protected function assertNoSecretsLogged(array $secrets): void
    {
        $this->assertNotEmpty(StandIn::$moduleLog, 'nothing was logged');
        foreach (StandIn::$moduleLog as $entry) {
            $text = $entry['request'] . "\n" . $entry['response'] . "\n" . $entry['data'];
            foreach ($secrets as $secret) {
                $this->assertStringNotContainsString($secret, $text, 'a secret reached the module log in ' . $entry['action']);
            }
        }
    }
}
