<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Server\MikrotikVpn\Format;

/**
 * Amounts and times as screens show them. No server needed. (GB amounts are parsed by the server alone, by the
 * rules test/vectors/gb-amounts.json pins: the module does no traffic arithmetic.)
 */
class FormatTest extends TestCase
{
    public function testSignedGbWritesAPlusOrATrueMinusNeverBoth(): void
    {
        $this->assertSame('+100.00', Format::signedGb(100000000000));
        $this->assertSame('+100.00', Format::signedGb('100000000000'));
        $this->assertSame("\u{2212}5.00", Format::signedGb(-5000000000));
        $this->assertSame("\u{2212}0.01", Format::signedGb(-5000000), 'rounded half away from zero');
        $this->assertSame('0.00', Format::signedGb(0));
        $this->assertSame('0.00', Format::signedGb(-4000000), 'what rounds to zero has no sign');
        $this->assertSame('-5.00', Format::gb(-5000000000), 'balances keep the plain form');
    }

    public function testSessionBytesAreMbBelowAGbAndGbFromThere(): void
    {
        $this->assertSame(['0.00', 'mb'], Format::size(0));
        $this->assertSame(['12.35', 'mb'], Format::size(12345678), '10^6 bytes, half away from zero');
        $this->assertSame(['999.99', 'mb'], Format::size(999994999));
        $this->assertSame(['1.00', 'gb'], Format::size(999995000), 'never "1000.00 MB"');
        $this->assertSame(['1.50', 'gb'], Format::size('1500000000'), 'BigInt strings as numbers');
        $this->assertSame(['9223372036.85', 'gb'], Format::size(PHP_INT_MAX));
    }

    public function testServerTimesAreShownInTheAccountsTimeZone(): void
    {
        $this->assertSame('2026-12-06 10:05:30', Format::dateTimeIn('2026-12-06T09:05:30.123Z', 'Europe/Berlin'));
        $this->assertSame('2026-07-01 05:00:00', Format::dateTimeIn('2026-07-01T09:00:00Z', 'America/New_York'), 'summer time');
        $this->assertSame('', Format::dateTimeIn(null, 'UTC'));
        $this->assertSame(date_default_timezone_get(), Format::zone('Not/AZone')->getName(), "an unknown zone is PHP's");
    }

    public function testTypedTimesBecomeUtcInstants(): void
    {
        $this->assertSame('2026-12-06T09:05:30.000Z', Format::localToUtcIso('2026-12-06 10:05:30', 'Europe/Berlin'));
        $this->assertSame('2026-12-06T09:05:00.000Z', Format::localToUtcIso('2026-12-06T10:05', 'Europe/Berlin'), 'as datetime-local sends it');
        $this->assertSame('2026-12-06T09:05:30.000Z', Format::localToUtcIso('2026-12-06T09:05:30Z', 'Europe/Berlin'), 'Z is taken as written');
        $this->assertSame('2026-12-06T09:05:30.000Z', Format::localToUtcIso('2026-12-06 11:05:30 +02:00', 'Europe/Berlin'));
        $this->assertSame('2026-12-06T10:05:00.000Z', Format::localToUtcIso('2026-12-06 10:05 UTC', 'Asia/Tokyo'));
        $this->assertSame('2026-12-06T09:05:30.250Z', Format::localToUtcIso('2026-12-06 10:05:30.25', 'Europe/Berlin'));
        foreach (['', 'yesterday', '2026-12-06', '2026-02-30 10:00', '2026-12-06 25:00', '06.12.2026 10:05'] as $bad) {
            $this->assertNull(Format::localToUtcIso($bad, 'Europe/Berlin'), $bad);
        }
    }

    public function testTheCarriedOverLineIsShownOnlyWhenSomeOfTheBalanceIsCarriedOver(): void
    {
        $en = new \WHMCS\Module\Server\MikrotikVpn\Lang('english');
        // Expires at the start of 1 January in WHMCS's zone: 23:00 UTC the day before, in Berlin.
        $traffic = ['balanceBytes' => '13000000000', 'carriedOverBytes' => '3000000000', 'carriedOverExpiresAt' => '2026-12-31T23:00:00.000Z'];
        $this->assertSame("3.00 GB of it carried over, usable until \u{2066}2027-01-01\u{2069}", Format::carriedOver($traffic, 'Europe/Berlin', $en));
        $this->assertSame("3.00 GB of it carried over, usable until \u{2066}2026-12-31\u{2069}", Format::carriedOver($traffic, 'UTC', $en));
        $fr = \WHMCS\Module\Server\MikrotikVpn\Lang::load('french');
        $this->assertSame(strtr($fr['carried_over'], ['{amount}' => '3.00 Go', '{date}' => "\u{2066}2027-01-01\u{2069}"]),
            Format::carriedOver($traffic, 'Europe/Berlin', new \WHMCS\Module\Server\MikrotikVpn\Lang('french')));
        $this->assertSame('', Format::carriedOver(['carriedOverBytes' => '0', 'carriedOverExpiresAt' => null], 'UTC', $en));
        $this->assertSame('', Format::carriedOver(['carriedOverBytes' => 0, 'carriedOverExpiresAt' => null], 'UTC', $en));
        $this->assertSame('', Format::carriedOver(['balanceBytes' => '5'], 'UTC', $en), 'a server without the field');
    }

    public function testAPeriodIsItsTwoDaysKeptLeftToRight(): void
    {
        $this->assertSame("\u{2066}2026-11-01 \u{2013} 2026-12-01\u{2069}", Format::period('2026-11-01/2026-12-01'));
        $this->assertSame('', Format::period(''));
        $this->assertSame('', Format::period('2026-11-01'));
    }
}
