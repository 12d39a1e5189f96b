<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Server\MikrotikVpn\Format;

/**
 * Amounts as screens show them. No server needed. (GB amounts are parsed by the server alone, by the
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
}
