<?php

use WhmcsStandIn\StandIn;

/** Traffic addons: credited once per activation or renewal, whichever path WHMCS takes. */
class AddonTest extends BridgeTestCase
{
    public function testActivatedTwiceIsCreditedOnce(): void
    {
        $serviceId = $this->createdService();
        $addonId = $this->trafficAddon('100', [self::$productId]);
        $hostingAddon = $this->hostingAddon($serviceId, $addonId);
        $invoice = $this->paidInvoice('Addon', $hostingAddon, 'INV-2026-0042');

        // WHMCS calls the module's CreateAccount for the addon, then runs AddonActivation.
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
        StandIn::runHook('AddonActivation', ['id' => $hostingAddon, 'userid' => self::$clientId, 'clientid' => self::$clientId,
            'serviceid' => $serviceId, 'addonid' => $addonId]);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));

        $addons = $this->topUps($serviceId, 'ADDON');
        $this->assertCount(1, $addons);
        $this->assertSame('100000000000', (string) $addons[0]['bytes']);
        $this->assertSame((string) $invoice, (string) $addons[0]['invoice_id']);
        $this->assertSame('Traffic 100 GB', $addons[0]['description'], 'the addon by name; its invoice is the line\'s invoice');
        $this->assertSame(110000000000, $this->account($serviceId)['traffic']['balanceBytes']);
        $this->assertSame([], StandIn::$activityLog);

        // A renewal of the addon is paid by a new invoice: credited again, once.
        $this->paidInvoice('Addon', $hostingAddon);
        $this->assertSame('success', StandIn::call('Renew', StandIn::addonParams($hostingAddon)));
        StandIn::runHook('AddonRenewal', ['id' => $hostingAddon, 'userid' => self::$clientId, 'serviceid' => $serviceId, 'addonid' => $addonId]);
        $this->assertCount(2, $this->topUps($serviceId, 'ADDON'));
        $this->assertSame(210000000000, $this->account($serviceId)['traffic']['balanceBytes']);
    }

    public function testQuantityAndFractionsAreExact(): void
    {
        $serviceId = $this->createdService();
        $addonId = $this->trafficAddon('2.5', [self::$productId], 'Traffic 2.5 GB');
        $hostingAddon = $this->hostingAddon($serviceId, $addonId, ['qty' => 3]);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
        $this->assertSame('7500000000', (string) $this->topUps($serviceId, 'ADDON')[0]['bytes']);
    }

    public function testAddonLifecycleCallsLeaveTheVpnAccountAlone(): void
    {
        $serviceId = $this->createdService();
        $hostingAddon = $this->hostingAddon($serviceId, $this->trafficAddon('10', [self::$productId]));
        $this->assertSame('success', StandIn::call('SuspendAccount', StandIn::addonParams($hostingAddon)));
        $this->assertSame('success', StandIn::call('TerminateAccount', StandIn::addonParams($hostingAddon)));
        $this->assertSame('ACTIVE', $this->account($serviceId)['status']);
    }

    public function testHooksIgnoreAddonsOfOtherModules(): void
    {
        $serviceId = $this->createdService();
        $other = $this->insert('tbladdons', ['packages' => (string) self::$productId, 'name' => 'Backup', 'description' => '',
            'billingcycle' => 'onetime', 'tax' => 0, 'showorder' => 1, 'downloads' => '', 'autoactivate' => '', 'suspendproduct' => 0,
            'welcomeemail' => 0, 'type' => '', 'module' => '', 'autolinkby' => '']);
        $hostingAddon = $this->hostingAddon($serviceId, $other);
        StandIn::runHook('AddonActivation', ['id' => $hostingAddon, 'serviceid' => $serviceId, 'addonid' => $other]);
        $this->assertSame([], $this->topUps($serviceId, 'ADDON'));
        $this->assertSame([], StandIn::$activityLog);
    }

    public function testAnAddonWithoutTrafficSettingIsReported(): void
    {
        $serviceId = $this->createdService();
        $hostingAddon = $this->hostingAddon($serviceId, $this->trafficAddon('lots', [self::$productId], 'Broken addon'));
        $this->assertStringContainsString('"Traffic in GB"', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
    }
}
