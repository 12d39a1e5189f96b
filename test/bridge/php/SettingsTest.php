<?php

use WHMCS\Database\Capsule;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\Settings;
use WhmcsStandIn\StandIn;

/** MetaData, ConfigOptions from the manifest, the Loader dropdowns, the addon settings page. */
class SettingsTest extends BridgeTestCase
{
    public function testMetaDataDeclaresTheModule(): void
    {
        $meta = StandIn::call('MetaData');
        $this->assertSame('1.1', $meta['APIVersion']);
        $this->assertTrue($meta['RequiresServer']);
        $this->assertSame('8729', $meta['DefaultSSLPort']);
        $this->assertSame('8728', $meta['DefaultNonSSLPort']);
        $this->assertSame('configoption2', $meta['ListAccountsProductField']);
    }

    public function testConfigOptionsFollowTheManifestOrder(): void
    {
        $manifest = json_decode(file_get_contents(StandIn::$moduleDir . '/product-settings.json'), true)['settings'];
        $options = StandIn::call('ConfigOptions', []);
        $this->assertSame(array_column($manifest, 'key'), array_keys($options), 'configoption1..N = manifest order');
        $this->assertLessThanOrEqual(24, count($options));
        foreach ($manifest as $spec) {
            $field = $options[$spec['key']];
            $this->assertSame($spec['type'], $field['Type']);
            $this->assertSame($spec['default'], $field['Default']);
            $this->assertSame(!empty($spec['simpleMode']), !empty($field['SimpleMode']), $spec['key']);
            if (isset($spec['loader'])) {
                $this->assertTrue(function_exists($field['Loader']), $field['Loader']);
            }
            if (isset($spec['options'])) {
                $this->assertSame(implode(',', $spec['options']), $field['Options']);
            }
        }
        $this->assertSame('PPP profile', $options['profile']['FriendlyName']);
        $_SESSION['adminlang'] = 'german';
        $this->assertSame('PPP-Profil', StandIn::call('ConfigOptions', [])['profile']['FriendlyName']);
    }

    /**
     * One session per account: a tick box (WHMCS draws a yesno setting as a checkbox and stores 'on'
     * when ticked, '' when not), labelled and explained in the admin's language.
     */
    public function testOneSessionPerAccountIsATickBoxInTheAdminsLanguage(): void
    {
        $field = StandIn::call('ConfigOptions', [])['singleSession'];
        $this->assertSame(['FriendlyName' => 'One session per account', 'Type' => 'yesno', 'Default' => '',
            'Description' => Lang::load('english')['setting_singleSession_help']], $field);
        $this->assertStringContainsString('duplicate session', $field['Description']);
        foreach (['german' => 'Eine Sitzung pro Konto', 'arabic' => 'جلسة واحدة لكل حساب'] as $language => $label) {
            $_SESSION['adminlang'] = $language;
            $field = StandIn::call('ConfigOptions', [])['singleSession'];
            $this->assertSame($label, $field['FriendlyName']);
            $this->assertSame(Lang::load($language)['setting_singleSession_help'], $field['Description']);
            $this->assertNotSame(Lang::load('english')['setting_singleSession_help'], $field['Description']);
        }
        // WHMCS's 'on' is what the product's row holds; the server reads it from there.
        $product = $this->product(['singleSession' => 'on'], 'VPN one session');
        $index = Settings::index('singleSession');
        $this->assertSame('on', Capsule::table('tblproducts')->where('id', $product)->value('configoption' . $index));
        $this->assertSame('on', Settings::value(StandIn::params($this->service(['packageid' => $product])), 'singleSession'));
        $this->assertSame('', Settings::value(StandIn::params($this->service()), 'singleSession'), 'unticked by default');
    }

    public function testAddonSettingsPageShowsTrafficInGb(): void
    {
        $_SERVER['SCRIPT_NAME'] = '/admin/configaddons.php';
        $options = StandIn::call('ConfigOptions', []);
        $this->assertSame(['trafficGb'], array_keys($options));
        $this->assertSame('Traffic in GB', $options['trafficGb']['FriendlyName']);
        // Built from the manifest's addonSettings entry, labelled in the admin's language.
        $spec = json_decode(file_get_contents(StandIn::$moduleDir . '/product-settings.json'), true)['addonSettings'][0];
        $this->assertSame(['FriendlyName' => 'Traffic in GB', 'Type' => $spec['type'], 'Default' => $spec['default'],
            'Description' => Lang::load('english')['addon_traffic_gb_help'],
            'Size' => (string) $spec['size'], 'SimpleMode' => true], $options['trafficGb']);
        $this->assertSame(['trafficGb'], array_keys(StandIn::call('ConfigOptions', ['addonId' => 7])), 'WHMCS naming the addon');
        $_SESSION['adminlang'] = 'german';
        $this->assertSame(Lang::load('german')['addon_traffic_gb'],
            StandIn::call('ConfigOptions', [])['trafficGb']['FriendlyName']);
    }

    public function testProfileLoaderReadsTheRouterThroughTheServer(): void
    {
        $this->sim('profile', ['name' => 'vpn-gold']);
        $profiles = StandIn::call('LoaderProfiles', StandIn::serverParams(self::$serverId));
        $this->assertArrayHasKey('vpn-gold', $profiles);
        $this->assertArrayHasKey('default', $profiles);
    }

    public function testProfileLoaderWithoutServerParamsUsesTheProductsServer(): void
    {
        // Make sure the router is known to the server, then ask as the product settings page does.
        StandIn::call('LoaderProfiles', StandIn::serverParams(self::$serverId));
        $_REQUEST['id'] = self::$productId;
        $profiles = StandIn::call('LoaderProfiles', []);
        $this->assertArrayHasKey('default', $profiles);
    }

    public function testProfileLoaderThrowsAReadableErrorWhenTheServerIsDown(): void
    {
        $this->useConfig(['graphql_url' => 'http://127.0.0.1:9/graphql']);
        $this->expectException(Exception::class);
        $this->expectExceptionMessageMatches('/cannot be reached/');
        StandIn::call('LoaderProfiles', StandIn::serverParams(self::$serverId));
    }

    public function testEmailTemplateLoaderInstallsTheTwoDefaultsOnce(): void
    {
        $names = StandIn::call('LoaderEmailTemplates', []);
        $low = Settings::all()[Settings::index('lowTrafficTemplate') - 1]['default'];
        $limited = Settings::all()[Settings::index('limitedTemplate') - 1]['default'];
        $this->assertArrayHasKey($low, $names);
        $this->assertArrayHasKey($limited, $names);
        StandIn::call('LoaderEmailTemplates', []);
        $this->assertSame('success', StandIn::call('InstallEmailTemplates', StandIn::params($this->service())));
        $this->assertSame(1, Capsule::table('tblemailtemplates')->where('name', $low)->count());
        $row = Capsule::table('tblemailtemplates')->where('name', $limited)->first();
        $this->assertSame('product', $row->type);
        $this->assertStringContainsString('{$vpn_balance_gb}', $row->message);
        $this->assertStringContainsString('{$vpn_username}', $row->subject);
    }
}
