<?php

use WhmcsStandIn\StandIn;

/**
 * Traffic addons: credited once per activation or renewal, whichever path WHMCS takes. The module
 * only names the addon and the event (creditHostingAddon); the server reads the addon, its Traffic
 * in GB, the quantity and the paying invoice.
 */
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
        // The key the module built before (stored, as every top-up key, behind its kind).
        $this->assertSame('addon:addon:' . $hostingAddon . ':invoice:' . $invoice, $addons[0]['idempotency_key']);
        $this->assertSame(['a' => $hostingAddon, 'e' => 'ACTIVATION'], $this->sentVariables('CreditHostingAddon'),
            'the module names the addon and the event, nothing it worked out');
        $this->assertSame(110000000000, $this->account($serviceId)['traffic']['balanceBytes']);
        $this->assertSame([], StandIn::$activityLog);

        // A renewal of the addon is paid by a new invoice: credited again, once.
        $this->paidInvoice('Addon', $hostingAddon);
        $this->assertSame('success', StandIn::call('Renew', StandIn::addonParams($hostingAddon)));
        StandIn::runHook('AddonRenewal', ['id' => $hostingAddon, 'userid' => self::$clientId, 'serviceid' => $serviceId, 'addonid' => $addonId]);
        $this->assertCount(2, $this->topUps($serviceId, 'ADDON'));
        $this->assertSame(['a' => $hostingAddon, 'e' => 'RENEWAL'], $this->sentVariables('CreditHostingAddon'));
        $this->assertSame(210000000000, $this->account($serviceId)['traffic']['balanceBytes']);
    }

    public function testWithoutAnInvoiceTheActivationDateNamesTheCredit(): void
    {
        $serviceId = $this->createdService();
        $hostingAddon = $this->hostingAddon($serviceId, $this->trafficAddon('5', [self::$productId], 'Traffic 5 GB'),
            ['regdate' => '2026-11-07']);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
        StandIn::runHook('AddonActivation', ['id' => $hostingAddon, 'serviceid' => $serviceId]);
        $addons = $this->topUps($serviceId, 'ADDON');
        $this->assertCount(1, $addons);
        $this->assertSame('addon:addon:' . $hostingAddon . ':activation:2026-11-07', $addons[0]['idempotency_key']);
        $this->assertNull($addons[0]['invoice_id']);
    }

    public function testQuantityAndFractionsAreExact(): void
    {
        $serviceId = $this->createdService();
        $addonId = $this->trafficAddon('2.5', [self::$productId], 'Traffic 2.5 GB');
        $hostingAddon = $this->hostingAddon($serviceId, $addonId, ['qty' => 3]);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
        $line = $this->topUps($serviceId, 'ADDON')[0];
        $this->assertSame('7500000000', (string) $line['bytes'], '2.5 GB × 3, worked out by the server');
        $this->assertSame('Traffic 2.5 GB × 3', $line['description']);
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

    public function testANonTrafficAddonIsASilentSuccess(): void
    {
        $serviceId = $this->createdService();
        $other = $this->insert('tbladdons', ['packages' => (string) self::$productId, 'name' => 'Static IP', 'description' => '',
            'billingcycle' => 'monthly', 'tax' => 0, 'showorder' => 1, 'downloads' => '', 'autoactivate' => '', 'suspendproduct' => 0,
            'welcomeemail' => 0, 'type' => '', 'module' => '', 'autolinkby' => '']);
        $hostingAddon = $this->hostingAddon($serviceId, $other);
        $this->assertSame('success', StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon)));
        $this->assertSame('success', StandIn::call('Renew', StandIn::addonParams($hostingAddon)));
        StandIn::runHook('AddonRenewal', ['id' => $hostingAddon, 'serviceid' => $serviceId, 'addonid' => $other]);
        $this->assertSame([], $this->topUps($serviceId, 'ADDON'));
        $this->assertSame([], StandIn::$activityLog);
        $this->assertStringContainsString('NotATrafficAddon', end(StandIn::$moduleLog)['response'], 'the server said so; PHP did not decide');
        $this->assertSame(10000000000, $this->account($serviceId)['traffic']['balanceBytes']);
    }

    public function testAnAddonWithoutTrafficSettingIsReported(): void
    {
        $serviceId = $this->createdService();
        $hostingAddon = $this->hostingAddon($serviceId, $this->trafficAddon('lots', [self::$productId], 'Broken addon'));
        $message = StandIn::call('CreateAccount', StandIn::addonParams($hostingAddon));
        // The server's VALIDATION message, naming the addon and the setting to fix.
        $this->assertStringContainsString('The addon "Broken addon" has no valid "Traffic in GB" setting', $message);
        $this->assertStringNotContainsString("\n", $message);
        $this->assertSame([], $this->topUps($serviceId, 'ADDON'));
        // The hook path cannot answer WHMCS: the same sentence goes to the activity log.
        StandIn::runHook('AddonActivation', ['id' => $hostingAddon, 'serviceid' => $serviceId]);
        $this->assertCount(1, StandIn::$activityLog);
        $this->assertStringContainsString('(AddonActivation): The addon "Broken addon" has no valid "Traffic in GB"', StandIn::$activityLog[0]);
    }
}
