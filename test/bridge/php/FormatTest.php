<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Server\MikrotikVpn\Format;

/** Amounts as admins type them and as screens show them. No server needed. */
class FormatTest extends TestCase
{
    /**
     * The GB amounts shared with the server (src/common/units.ts gbToBytes runs the same file): exact
     * bytes, or null for refused.
     */
    public function testGbToBytesFollowsTheServersRulesForEverySharedVector(): void
    {
        $file = dirname(__DIR__, 2) . '/vectors/gb-amounts.json';
        $vectors = json_decode((string) file_get_contents($file), true)['vectors'];
        $this->assertGreaterThan(20, count($vectors));
        foreach ($vectors as $v) {
            $bytes = Format::gbToBytes($v['input']);
            $this->assertSame($v['bytes'], $bytes === null ? null : (string) $bytes, json_encode($v['input']));
        }
    }

    public function testGbToBytesTrimsWhatTheServerTrimsAndNothingElse(): void
    {
        $this->assertSame(5000000000, Format::gbToBytes("\t5\n"));
        $this->assertSame(5000000000, Format::gbToBytes("\u{00A0}5\u{3000}"), 'Unicode spaces, as JavaScript trim()');
        $this->assertNull(Format::gbToBytes("5\u{200B}"), 'a zero-width space is not white space');
        $this->assertNull(Format::gbToBytes("1\n2"));
        $this->assertNull(Format::gbToBytes("\xff5"), 'not UTF-8');
        $this->assertSame(1000000000, Format::gbToBytes('0000000000001'), 'leading zeros are not digits of the amount');
    }

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
