<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\WireGuardView;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\Settings;
use WhmcsStandIn\StandIn;

/**
 * WireGuard accounts through the module: the settings (textarea, interface dropdown), Test Connection,
 * Create, the client area's WireGuard block (config download, QR code, new keys), the admin tab and
 * button, and that no private key reaches a log. One WireGuard service walks through them, on a
 * WireGuard interface added to the shared simulated router.
 */
class WireGuardTest extends BridgeTestCase
{
    const INTERFACE = 'wg-test';
    const PORT = 51820;

    /** @var int */
    private static $product = 0;
    /** @var int */
    private static $service = 0;

    protected function tearDown(): void
    {
        unset($_POST['mvpn_confirm'], $_SERVER['REQUEST_METHOD']);
        $_SESSION = [];
    }

    private function wgProduct(): int
    {
        if (self::$product === 0) {
            $this->sim('wg-interface', ['name' => self::INTERFACE, 'listenPort' => self::PORT]);
            self::$product = $this->product([
                'service' => 'wireguard', 'wgInterface' => self::INTERFACE, 'protocols' => '', 'l2tpPsk' => '',
                'wgClient' => "AllowedIPs = 0.0.0.0/0\nDNS = 10.77.255.1\nPersistentKeepalive = 25",
            ], 'VPN WireGuard');
        }
        return self::$product;
    }

    private function wgService(): int
    {
        if (self::$service === 0) {
            self::$service = $this->createdService(['packageid' => $this->wgProduct()]);
        }
        return self::$service;
    }

    /** The account's WireGuard side, read from the server directly (with the admin key). */
    private function wg(int $serviceId): array
    {
        $r = $this->gql('query($s: Int!) { vpnAccount(serviceId: $s) { protocol address username
            wireguard { publicKey interface endpoint online } wireGuardConfig { fileName text } } }', ['s' => $serviceId]);
        $this->assertArrayNotHasKey('errors', $r, json_encode($r));
        return $r['data']['vpnAccount'];
    }

    private function configValue(string $text, string $key): string
    {
        $this->assertMatchesRegularExpression('/^' . $key . ' = (\S+)$/m', $text);
        preg_match('/^' . $key . ' = (\S+)$/m', $text, $m);
        return $m[1];
    }

    private function render(int $serviceId, array $session = []): string
    {
        $_SESSION = $session;
        $result = StandIn::call('ClientArea', StandIn::params($serviceId));
        return StandIn::renderClientArea($result);
    }

    /** @return array{0:string,1:string} the download link's file name and decoded text */
    private function download(string $html): array
    {
        $this->assertMatchesRegularExpression(
            '#<a class="btn btn-primary btn-sm mvpn-wg-download" download="([^"]+)" href="data:text/plain;charset=utf-8;base64,([A-Za-z0-9+/=]+)">#', $html);
        preg_match('#mvpn-wg-download" download="([^"]+)" href="data:text/plain;charset=utf-8;base64,([A-Za-z0-9+/=]+)"#', $html, $m);
        return [$m[1], (string) base64_decode($m[2], true)];
    }

    /** Nothing the module logged (module log, activity log) holds these. */
    private function assertNotLogged(array $secrets): void
    {
        foreach (StandIn::$moduleLog as $entry) {
            $text = $entry['request'] . "\n" . $entry['response'] . "\n" . $entry['data'];
            foreach ($secrets as $secret) {
                $this->assertStringNotContainsString($secret, $text, 'a WireGuard secret reached the module log in ' . $entry['action']);
            }
            $this->assertStringNotContainsString('<svg', $text, 'the QR code (the config as an image) reached the module log in ' . $entry['action']);
        }
        foreach (StandIn::$activityLog as $line) {
            foreach ($secrets as $secret) {
                $this->assertStringNotContainsString($secret, $line, 'a WireGuard secret reached the activity log');
            }
        }
    }

    public function test01SettingsDrawTheClientLinesAsATextareaAndTheInterfaceAsALoader(): void
    {
        $manifest = Settings::all()[Settings::index('wgClient') - 1];
        $options = StandIn::call('ConfigOptions', []);
        $this->assertSame('textarea', $options['wgClient']['Type']);
        $this->assertSame((string) $manifest['rows'], $options['wgClient']['Rows']);
        $this->assertSame('60', $options['wgClient']['Cols']);
        $this->assertSame($manifest['default'], $options['wgClient']['Default']);
        $this->assertSame('WireGuard client settings', $options['wgClient']['FriendlyName']);
        $this->assertSame(Lang::load('english')['setting_wgClient_help'], $options['wgClient']['Description']);
        $this->assertSame('mikrotikvpn_LoaderWireguardInterfaces', $options['wgInterface']['Loader']);
        $this->assertSame('Protocol', $options['service']['FriendlyName']);
        $this->assertStringContainsString('wireguard', $options['service']['Options']);
        $this->assertArrayNotHasKey('Rows', $options['commentPrefix'], 'only textareas have rows');
        $_SESSION['adminlang'] = 'german';
        $german = StandIn::call('ConfigOptions', []);
        $this->assertSame('Protokoll', $german['service']['FriendlyName']);
        $this->assertSame(Lang::load('german')['setting_wgInterface_help'], $german['wgInterface']['Description']);
    }

    public function test02TheLoaderListsTheRoutersInterfacesWithTheirPorts(): void
    {
        $this->wgProduct();
        $interfaces = StandIn::call('LoaderWireguardInterfaces', StandIn::serverParams(self::$serverId));
        $this->assertSame("(the router's only interface)", $interfaces['']);
        $this->assertSame(self::INTERFACE . ' (port ' . self::PORT . ')', $interfaces[self::INTERFACE]);
        $this->assertSame('', array_keys($interfaces)[0], 'the empty choice first');
        // As the product settings page asks: no server params, the product's server.
        $_REQUEST['id'] = $this->wgProduct();
        $this->assertArrayHasKey(self::INTERFACE, StandIn::call('LoaderWireguardInterfaces', []));
        $_SESSION['adminlang'] = 'german';
        $this->assertSame('(die einzige Schnittstelle des Routers)', StandIn::call('LoaderWireguardInterfaces', [])['']);
    }

    public function test03TheLoaderFailsAsTheProfileLoaderDoes(): void
    {
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $this->expectException(Exception::class);
        $this->expectExceptionMessageMatches('/cannot be reached/');
        StandIn::call('LoaderWireguardInterfaces', StandIn::serverParams(self::$serverId));
    }

    public function test04TestConnectionNamesTheInterfaceAndItsPort(): void
    {
        $this->wgProduct();
        $result = StandIn::call('TestConnection', StandIn::serverParams(self::$serverId));
        $this->assertTrue($result['success'], json_encode($result));
        $this->assertSame('', $result['error']);
        $this->assertStringStartsWith('Connected to ', $result['message']);
        $this->assertStringContainsString('WireGuard interfaces: ' . self::INTERFACE . ' (port ' . self::PORT . ').', $result['message']);
    }

    public function test05CreateAccountMakesAPeerAndNoPppSecret(): void
    {
        $serviceId = $this->wgService();
        $this->assertSame(['UpsertRouter', 'CreateAccount'], array_column(StandIn::$moduleLog, 'action'));
        $account = $this->wg($serviceId);
        $this->assertSame('WIREGUARD', $account['protocol']);
        $this->assertSame(self::INTERFACE, $account['wireguard']['interface']);
        $row = Capsule::table('tblhosting')->where('id', $serviceId)->first();
        $this->assertSame($account['address'], $row->dedicatedip);
        $peer = $this->sim('wg-peer', ['publicKey' => $account['wireguard']['publicKey']]);
        $this->assertNotNull($peer, 'the peer is on the router');
        $this->assertSame(self::INTERFACE, $peer['interface']);
        $this->assertContains($account['address'] . '/32', $peer['allowedAddress']);
        $this->assertNull($this->sim('secret', ['name' => $row->username]), 'no PPP secret for a WireGuard account');
    }

    public function test06TheClientAreaShowsTheWireGuardBlockAndNoSecretIsLogged(): void
    {
        $serviceId = $this->wgService();
        $account = $this->wg($serviceId);
        $html = $this->render($serviceId);
        $this->assertStringContainsString('mvpn-wg', $html);
        $this->assertStringContainsString('<strong>WireGuard</strong>', $html);
        // The PPP rows are not there: no password, protocols or pre-shared key.
        $this->assertStringNotContainsString('mvpn-password', $html);
        $this->assertStringNotContainsString('mvpn-psk', $html);
        $this->assertStringNotContainsString('mvpn-protocols', $html);
        $this->assertStringNotContainsString('Start-Passw0rd', $html);
        $this->assertStringContainsString('<code class="mvpn-wg-endpoint"><bdi dir="ltr">vpn.example.test:' . self::PORT . '</bdi></code>', $html);
        $this->assertStringContainsString('<code class="mvpn-address"><bdi dir="ltr">' . $account['address'] . '</bdi></code>', $html);
        $this->assertStringContainsString('mvpn-offline', $html);
        $this->assertStringContainsString('No handshake yet', $html);
        $this->assertStringContainsString('href="https://docs.example.test/vpn-setup"', $html, 'the instructions link as for PPP');
        // The download: <username>.conf, a wg-quick file with the account's keys and the router's side.
        list($fileName, $text) = $this->download($html);
        $this->assertSame($account['username'] . '.conf', $fileName);
        $this->assertSame($account['wireGuardConfig']['text'], $text);
        $this->assertStringStartsWith("[Interface]\n", $text);
        $this->assertSame($account['address'] . '/32', $this->configValue($text, 'Address'));
        $this->assertSame('10.77.255.1', $this->configValue($text, 'DNS'));
        $this->assertSame('vpn.example.test:' . self::PORT, $this->configValue($text, 'Endpoint'));
        $interface = $this->sim('wg-interface', ['name' => self::INTERFACE]);
        $this->assertSame($interface['publicKey'], $this->configValue($text, 'PublicKey'), "the router interface's key");
        $privateKey = $this->configValue($text, 'PrivateKey');
        $presharedKey = $this->configValue($text, 'PresharedKey');
        // The QR code: the server's SVG, inlined.
        $this->assertMatchesRegularExpression('#<div class="mvpn-wg-qr" role="img" aria-label="[^"]+" [^>]*><svg [^>]*viewBox="[^"]+"[^>]*>.*</svg></div>#s', $html);
        // The new keys form: the custom action, confirmed in the browser first.
        $this->assertMatchesRegularExpression('#<form method="post" action="clientarea.php\?action=productdetails" class="mvpn-wg-newkeys"\s+data-confirm="Your current config stops working[^"]*" onsubmit="return window.confirm\(this.getAttribute\(\'data-confirm\'\)\);">#', $html);
        $this->assertStringContainsString('<input type="hidden" name="a" value="newKeys">', $html);
        $this->assertStringContainsString('<input type="hidden" name="id" value="' . $serviceId . '">', $html);
        $this->assertStringContainsString('<input type="hidden" name="token" value="standin-csrf-token">', $html);
        // The one ClientArea operation asked for the config; the log has neither key nor the QR code.
        $this->assertSame(['ClientArea', 'MintClientToken'], array_column(StandIn::$moduleLog, 'action'));
        $this->assertStringContainsString('wireGuardConfig { fileName text qrSvg }', StandIn::$moduleLog[0]['request']);
        $this->assertStringContainsString('(not logged: holds the private key)', StandIn::$moduleLog[0]['response']);
        $this->assertNotLogged([$privateKey, $presharedKey, $text]);
        $this->assertNotLogged([getenv('BRIDGE_API_KEY')]);
    }

    public function test07AHandshakeShowsTheAccountOnline(): void
    {
        $serviceId = $this->wgService();
        $account = $this->wg($serviceId);
        $this->assertTrue($this->sim('wg-handshake', ['publicKey' => $account['wireguard']['publicKey']]));
        $html = $this->render($serviceId);
        $this->assertStringContainsString('mvpn-online', $html);
        $this->assertMatchesRegularExpression('#mvpn-wg-handshake"><bdi dir="ltr">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</bdi> \(\d\d:\d\d:\d\d ago\)<#', $html);
        $this->assertStringContainsString('<td class="mvpn-wg-current"><bdi dir="ltr">203.0.113.50:51820</bdi></td>', $html);
    }

    public function test08TheAdminTabShowsThePublicKeyAndNeverThePrivateKey(): void
    {
        $serviceId = $this->wgService();
        $account = $this->wg($serviceId);
        $text = $account['wireGuardConfig']['text'];
        StandIn::resetRecords();
        $fields = StandIn::call('AdminServicesTabFields', StandIn::params($serviceId));
        $html = implode("\n", array_keys($fields)) . "\n" . implode("\n", $fields);
        $this->assertStringContainsString('<code class="mvpn-wg-public-key">' . $account['wireguard']['publicKey'] . '</code>', $fields['WireGuard']);
        $this->assertStringContainsString('Interface: <code>' . self::INTERFACE . '</code>', $fields['WireGuard']);
        $this->assertStringContainsString('Endpoint: <code>vpn.example.test:' . self::PORT . '</code>', $fields['WireGuard']);
        $this->assertStringContainsString('Protocol: WireGuard', $fields['VPN user']);
        $this->assertStringContainsString('Online', $fields['Connection']);
        $this->assertStringContainsString('Last handshake: <bdi dir="ltr">', $fields['Connection']);
        $this->assertStringContainsString('Connected from: <code>203.0.113.50:51820</code>', $fields['Connection']);
        $this->assertStringContainsString('Transferred since the router started', $fields['Connection']);
        foreach ([$this->configValue($text, 'PrivateKey'), $this->configValue($text, 'PresharedKey'), 'PrivateKey', '<svg'] as $secret) {
            $this->assertStringNotContainsString($secret, $html);
        }
        $this->assertStringNotContainsString('wireGuardConfig', StandIn::$moduleLog[0]['request'], 'the admin tab does not ask for the config');
        $this->assertNotLogged([$this->configValue($text, 'PrivateKey'), $this->configValue($text, 'PresharedKey')]);
    }

    public function test09NewKeysFromTheClientAreaAskFirstThenReplaceThePeersKey(): void
    {
        $serviceId = $this->wgService();
        $params = StandIn::params($serviceId);
        $buttons = StandIn::call('ClientAreaCustomButtonArray', $params);
        $this->assertSame(['New keys' => 'newKeys'], $buttons);
        $this->assertTrue(function_exists('mikrotikvpn_newKeys'));
        $before = $this->wg($serviceId);
        // The Actions menu links here without a confirmed form: a page asks first, nothing changes.
        $_SERVER['REQUEST_METHOD'] = 'GET';
        $page = StandIn::call('newKeys', $params);
        $this->assertSame('templates/newkeys', $page['templatefile']);
        $html = StandIn::renderClientArea(['tabOverviewModuleOutputTemplate' => $page['templatefile'] . '.tpl', 'templateVariables' => $page['vars']]);
        $this->assertStringContainsString('Your current config stops working', $html);
        $this->assertStringContainsString('<input type="hidden" name="mvpn_confirm" value="1">', $html);
        $this->assertStringContainsString('<input type="hidden" name="a" value="newKeys">', $html);
        $this->assertSame([], StandIn::$moduleLog, 'no call before the customer confirms');
        $this->assertSame($before['wireguard']['publicKey'], $this->wg($serviceId)['wireguard']['publicKey']);
        // The confirmed form.
        $_SERVER['REQUEST_METHOD'] = 'POST';
        $_POST['mvpn_confirm'] = '1';
        $this->assertSame('success', StandIn::call('newKeys', $params));
        $this->assertSame(['NewKeys'], array_column(StandIn::$moduleLog, 'action'));
        $after = $this->wg($serviceId);
        $this->assertNotSame($before['wireguard']['publicKey'], $after['wireguard']['publicKey']);
        $this->assertNull($this->sim('wg-peer', ['publicKey' => $before['wireguard']['publicKey']]), 'the old key is gone from the router');
        $this->assertNotNull($this->sim('wg-peer', ['publicKey' => $after['wireguard']['publicKey']]), 'the peer has the new key');
        // The client area offers the new config; the old private key is not in it.
        StandIn::resetRecords();
        list(, $text) = $this->download($this->render($serviceId));
        $this->assertNotSame($this->configValue($before['wireGuardConfig']['text'], 'PrivateKey'), $this->configValue($text, 'PrivateKey'));
        $this->assertSame($after['wireGuardConfig']['text'], $text);
        $this->assertNotLogged([$this->configValue($text, 'PrivateKey'), $this->configValue($text, 'PresharedKey')]);
    }

    public function test10TheAdminButtonGivesNewKeysToo(): void
    {
        $serviceId = $this->wgService();
        $params = StandIn::params($serviceId);
        $buttons = StandIn::call('AdminCustomButtonArray', $params);
        $this->assertSame('NewWireGuardKeys', $buttons['New WireGuard keys']);
        $this->assertSame('ResetConnection', $buttons['Reset connection']);
        $before = $this->wg($serviceId)['wireguard']['publicKey'];
        $this->assertSame('success', StandIn::call('NewWireGuardKeys', $params));
        $after = $this->wg($serviceId)['wireguard']['publicKey'];
        $this->assertNotSame($before, $after);
        $this->assertNotNull($this->sim('wg-peer', ['publicKey' => $after]));
        $this->assertSame(['UpsertRouter', 'NewWireGuardKeys'], array_column(StandIn::$moduleLog, 'action'));
    }

    public function test11ChangePasswordGivesAWireGuardAccountNewKeys(): void
    {
        $serviceId = $this->wgService();
        $before = $this->wg($serviceId)['wireguard']['publicKey'];
        $this->assertSame('success', StandIn::call('ChangePassword', StandIn::params($serviceId, ['password' => 'Whatever-Pw1'])));
        $this->assertNotSame($before, $this->wg($serviceId)['wireguard']['publicKey']);
    }

    public function test12APppServiceHasNoKeysToRenewAndItsClientAreaIsUnchanged(): void
    {
        $serviceId = $this->createdService();
        $params = StandIn::params($serviceId);
        $this->assertSame([], StandIn::call('ClientAreaCustomButtonArray', $params));
        $this->assertArrayNotHasKey('New WireGuard keys', StandIn::call('AdminCustomButtonArray', $params));
        $_SERVER['REQUEST_METHOD'] = 'POST';
        $_POST['mvpn_confirm'] = '1';
        $this->assertSame(Lang::load('english')['err_not_wireguard'], StandIn::call('newKeys', $params));
        $this->assertStringContainsString('not a WireGuard account', StandIn::call('NewWireGuardKeys', $params), "the server's refusal");
        $html = $this->render($serviceId);
        $this->assertStringNotContainsString('mvpn-wg', $html);
        $this->assertStringContainsString('<code class="mvpn-password">Start-Passw0rd</code>', $html);
        $this->assertStringContainsString('<code class="mvpn-psk">shared-psk-123</code>', $html);
        $this->assertStringContainsString('mvpn-uptime', $html);
        $fields = StandIn::call('AdminServicesTabFields', $params);
        $this->assertArrayNotHasKey('WireGuard', $fields);
        $this->assertStringContainsString('Protocol: PPP', $fields['VPN user']);
    }

    public function test13TheWireGuardBlockSpeaksTheCustomersLanguage(): void
    {
        $serviceId = $this->wgService();
        $html = $this->render($serviceId, ['Language' => 'german']);
        $this->assertStringContainsString('Neue Schlüssel', $html);
        $this->assertStringContainsString(htmlspecialchars(Lang::load('german')['wg_new_keys_confirm']), $html);
        $html = $this->render($serviceId, ['Language' => 'hebrew']);
        $this->assertStringContainsString('dir="rtl"', $html);
        $this->assertStringContainsString(Lang::load('hebrew')['wg_download'], $html);
        $this->assertStringContainsString('<code class="mvpn-wg-endpoint"><bdi dir="ltr">', $html, 'addresses stay left to right');
    }

    public function test14TheClientAreaSurvivesTheApiBeingDown(): void
    {
        $serviceId = $this->wgService();
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $html = $this->render($serviceId);
        $this->assertStringContainsString('mvpn-unavailable', $html);
        $this->assertStringContainsString('mvpn-wg', $html, "the product's protocol decides the block");
        $this->assertStringNotContainsString('mvpn-wg-download', $html);
        $this->assertStringNotContainsString('mvpn-password', $html);
    }

    public function test15OnlyAPlainQrCodeSvgIsInlined(): void
    {
        $plain = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h29v29H0z"/><path stroke="#000000" d="M4 4.5h7"/></svg>';
        $this->assertSame($plain, WireGuardView::safeSvg($plain . "\n"));
        foreach ([
            '<svg onload="alert(1)"><path d="M0 0"/></svg>',
            '<svg/onload=alert(1)></svg>',
            '<svg><script>alert(1)</script></svg>',
            '<svg><SCRIPT>alert(1)</SCRIPT></svg>',
            '<svg><path d="M0 0" onclick = "x()"/></svg>',
            '<svg><a href="javascript:alert(1)"><path d="M0 0"/></a></svg>',
            '<svg><foreignObject><iframe src="x"></iframe></foreignObject></svg>',
            '<svg><image xlink:href="data:x"/></svg>',
            '<div><svg></svg></div>',
            '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg></svg>',
            '<svg><path d="M0 0"/>',
            'not an image',
        ] as $bad) {
            $this->assertSame('', WireGuardView::safeSvg($bad), $bad);
        }
        $this->assertSame('vpnabc123.conf', WireGuardView::safeFileName('vpnabc123.conf'));
        $this->assertSame('x.conf', WireGuardView::safeFileName('../../"x.conf'));
        $this->assertSame('wireguard.conf', WireGuardView::safeFileName('.."'));
    }
}
