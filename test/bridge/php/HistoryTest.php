<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Server\MikrotikVpn\Lang;
use WHMCS\Module\Server\MikrotikVpn\AdminScreen;

/** The admin tab's traffic-added history (AdminScreen::historyHtml) from the server's lines. No server needed. */
class HistoryTest extends TestCase
{
    /** A TrafficTopUp as the server answers it. */
    private function line(array $fields): array
    {
        return array_merge([
            'id' => '1', 'at' => '2026-03-31T22:30:00.000Z', 'day' => '2026-04-01', 'kind' => 'CYCLE',
            'reason' => null, 'cycle' => null, 'period' => null, 'bytes' => '10000000000', 'balanceBeforeBytes' => '0',
            'balanceAfterBytes' => '10000000000', 'invoiceId' => null, 'description' => '',
        ], $fields);
    }

    /** @return array<int,array<int,string>> the cells of each row, as text */
    private function rows(string $html): array
    {
        $doc = new DOMDocument();
        $doc->loadHTML('<?xml encoding="UTF-8"><body>' . $html . '</body>', LIBXML_NOERROR);
        $rows = [];
        foreach ($doc->getElementsByTagName('tbody')->item(0)->getElementsByTagName('tr') as $tr) {
            $cells = [];
            foreach ($tr->getElementsByTagName('td') as $td) {
                $cells[] = trim($td->textContent);
            }
            $rows[] = $cells;
        }
        return $rows;
    }

    public function testServerLinesAreWordedFromReasonAndCycle(): void
    {
        $html = AdminScreen::historyHtml([
            $this->line(['reason' => 'MOVED', 'kind' => 'NOTE', 'bytes' => '0', 'balanceBeforeBytes' => '10000000000',
                'description' => 'WHMCS server 1 → WHMCS server 2']),
            $this->line(['reason' => 'PACKAGE_CHANGE', 'cycle' => 'Semi-Annually']),
            $this->line(['reason' => 'RENEWAL', 'cycle' => 'Annually', 'invoiceId' => 1105]),
            $this->line(['reason' => 'FIRST_CYCLE', 'cycle' => 'Monthly']),
        ], new Lang('english'));
        $rows = $this->rows($html);
        $this->assertSame('Moved to another server · WHMCS server 1 → WHMCS server 2', $rows[0][4]);
        $this->assertSame('0.00 GB', $rows[0][1], 'a note adds nothing and has no sign');
        $this->assertSame('Traffic allowance of the new package (Semi-annually)', $rows[1][4]);
        $this->assertSame('Renewal traffic allowance (Annually)', $rows[2][4]);
        $this->assertSame('Invoice #1105', $rows[2][5]);
        $this->assertSame('First traffic allowance (Monthly)', $rows[3][4]);
    }

    public function testTheDayIsTheServersDayInWhmcsTimeZone(): void
    {
        // 22:30 UTC on 31 March is already 1 April in WHMCS's zone (e.g. Europe/Berlin).
        $previous = date_default_timezone_get();
        date_default_timezone_set('UTC');
        try {
            $rows = $this->rows(AdminScreen::historyHtml([$this->line([])], new Lang('english')));
        } finally {
            date_default_timezone_set($previous);
        }
        $this->assertSame('2026-04-01', $rows[0][0]);
    }

    public function testNegativeAmountsHaveATrueMinusAndSignedAmountsStayLeftToRight(): void
    {
        $html = AdminScreen::historyHtml([
            $this->line(['kind' => 'ADJUSTMENT', 'reason' => 'ADJUSTMENT', 'bytes' => '-5000000000',
                'balanceBeforeBytes' => '3000000000', 'balanceAfterBytes' => '-2000000000', 'description' => 'Refund of a double credit']),
            $this->line(['kind' => 'ADDON', 'reason' => 'ADDON', 'bytes' => '100000000000', 'description' => 'Traffic 100 GB']),
        ], new Lang('english'));
        $this->assertStringNotContainsString('+-', $html);
        $this->assertStringNotContainsString('+' . "\u{2212}", $html);
        $this->assertStringContainsString('<bdi dir="ltr">' . "\u{2212}" . '5.00</bdi> GB', $html);
        $this->assertStringContainsString('<bdi dir="ltr">+100.00</bdi> GB', $html);
        $rows = $this->rows($html);
        $this->assertSame("\u{2212}5.00 GB", $rows[0][1]);
        $this->assertSame('-2.00 GB', $rows[0][3]);
        $this->assertSame('Adjustment · Refund of a double credit', $rows[0][4]);
        $this->assertSame('Additional traffic · Traffic 100 GB', $rows[1][4]);
    }

    public function testADescriptionThatRepeatsTheKindIsShownOnce(): void
    {
        $rows = $this->rows(AdminScreen::historyHtml([
            $this->line(['kind' => 'ADDON', 'reason' => 'ADDON', 'description' => 'Additional traffic']),
            $this->line(['kind' => 'ADDON', 'reason' => 'ADDON', 'description' => '  additional TRAFFIC ']),
            $this->line(['kind' => 'ADJUSTMENT', 'reason' => 'ADJUSTMENT', 'description' => 'Adjustment']),
            $this->line(['kind' => 'CYCLE', 'reason' => null, 'description' => 'Billing cycle traffic']),
        ], new Lang('english')));
        $this->assertSame(['Additional traffic', 'Additional traffic', 'Adjustment', 'Billing cycle traffic'], array_column($rows, 4));
    }

    public function testOldLinesKeepTheirEnglishDescription(): void
    {
        $rows = $this->rows(AdminScreen::historyHtml([
            $this->line(['reason' => null, 'description' => 'First monthly traffic allowance']),
        ], new Lang('german')));
        $this->assertSame('Datenvolumen des Abrechnungszeitraums · First monthly traffic allowance', $rows[0][4]);
    }

    public function testArabicWordsTheLinesAndKeepsSignsOnTheLeft(): void
    {
        $ar = Lang::load('arabic');
        $html = AdminScreen::historyHtml([
            $this->line(['reason' => 'RENEWAL', 'cycle' => 'Monthly']),
            $this->line(['kind' => 'ADJUSTMENT', 'reason' => 'ADJUSTMENT', 'bytes' => '-5000000000', 'description' => 'تصحيح']),
        ], new Lang('arabic'));
        $rows = $this->rows($html);
        $this->assertSame(strtr($ar['topup_RENEWAL'], ['{cycle}' => $ar['cycle_name_monthly']]), $rows[0][4]);
        $this->assertSame($ar['kind_ADJUSTMENT'] . ' · تصحيح', $rows[1][4]);
        $this->assertStringContainsString('<bdi dir="ltr">+10.00</bdi> ' . $ar['unit_gb'], $html);
        $this->assertStringContainsString('<bdi dir="ltr">' . "\u{2212}" . '5.00</bdi> ' . $ar['unit_gb'], $html);
        $this->assertStringContainsString(htmlspecialchars($ar['usage_added']), $html);
    }

    public function testAnUnknownCycleIsShownAsWhmcsNamesIt(): void
    {
        $this->assertSame('First traffic allowance (Fortnightly)',
            AdminScreen::topUpLabel($this->line(['reason' => 'FIRST_CYCLE', 'cycle' => 'Fortnightly']), new Lang('english')));
        $this->assertSame('Billing cycle traffic', AdminScreen::topUpLabel($this->line(['reason' => 'RENEWAL']), new Lang('english')),
            'without a cycle, the kind');
    }

    /** A renewal under "carry", as the server writes it: what expired, what was unused, what was carried, the renewal. */
    private function rolloverLines(): array
    {
        return [
            $this->line(['reason' => 'RENEWAL', 'cycle' => 'Monthly', 'day' => '2026-12-01',
                'bytes' => '10000000000', 'balanceBeforeBytes' => '3000000000', 'balanceAfterBytes' => '13000000000']),
            $this->line(['kind' => 'ROLLOVER', 'reason' => 'CARRIED_OVER', 'period' => '2026-11-01/2026-12-01', 'day' => '2026-12-01',
                'bytes' => '3000000000', 'balanceBeforeBytes' => '0', 'balanceAfterBytes' => '3000000000']),
            $this->line(['kind' => 'ROLLOVER', 'reason' => 'CYCLE_UNUSED', 'period' => '2026-11-01/2026-12-01', 'day' => '2026-12-01',
                'bytes' => '-4000000000', 'balanceBeforeBytes' => '4000000000', 'balanceAfterBytes' => '0']),
            $this->line(['kind' => 'ROLLOVER', 'reason' => 'CARRY_EXPIRED', 'period' => '2026-10-01/2026-11-01', 'day' => '2026-12-01',
                'bytes' => '-1500000000', 'balanceBeforeBytes' => '5500000000', 'balanceAfterBytes' => '4000000000']),
        ];
    }

    public function testRolloverLinesNameTheCycleTheTrafficCameFrom(): void
    {
        $period = function ($from, $to) {
            return "\u{2066}" . $from . " \u{2013} " . $to . "\u{2069}";
        };
        $rows = $this->rows(AdminScreen::historyHtml($this->rolloverLines(), new Lang('english')));
        $this->assertSame([
            'Renewal traffic allowance (Monthly)',
            'Carried over from ' . $period('2026-11-01', '2026-12-01'),
            'Unused traffic of the cycle ' . $period('2026-11-01', '2026-12-01'),
            'Expired carried-over traffic (from ' . $period('2026-10-01', '2026-11-01') . ')',
        ], array_column($rows, 4));
        $this->assertSame(['+10.00 GB', '+3.00 GB', "\u{2212}4.00 GB", "\u{2212}1.50 GB"], array_column($rows, 1));
        // Seen as text, the isolates are invisible: the two days and an en dash.
        $this->assertSame('Carried over from 2026-11-01 – 2026-12-01', str_replace(["\u{2066}", "\u{2069}"], '', $rows[1][4]));

        $de = Lang::load('german');
        $rows = $this->rows(AdminScreen::historyHtml($this->rolloverLines(), new Lang('german')));
        $this->assertSame([
            strtr($de['topup_RENEWAL'], ['{cycle}' => $de['cycle_name_monthly']]),
            'Übertragen aus ' . $period('2026-11-01', '2026-12-01'),
            'Ungenutztes Datenvolumen des Zeitraums ' . $period('2026-11-01', '2026-12-01'),
            'Verfallenes übertragenes Datenvolumen (aus ' . $period('2026-10-01', '2026-11-01') . ')',
        ], array_column($rows, 4));

        $ar = Lang::load('arabic');
        $rows = $this->rows(AdminScreen::historyHtml($this->rolloverLines(), new Lang('arabic')));
        $this->assertSame(strtr($ar['topup_CARRY_EXPIRED'], ['{period}' => $period('2026-10-01', '2026-11-01')]), $rows[3][4],
            'right to left, the days stay in their order');
    }

    public function testARolloverLineWithoutAPeriodGoesByItsKind(): void
    {
        $this->assertSame('Carry-over', AdminScreen::topUpLabel($this->line(['kind' => 'ROLLOVER', 'reason' => 'CARRIED_OVER']), new Lang('english')));
        $this->assertSame('Carry-over', AdminScreen::topUpLabel(
            $this->line(['kind' => 'ROLLOVER', 'reason' => 'CYCLE_UNUSED', 'period' => 'not a period']), new Lang('english')));
        $this->assertSame('Übertrag', AdminScreen::topUpLabel($this->line(['kind' => 'ROLLOVER', 'reason' => 'CARRY_EXPIRED']), new Lang('german')));
        // A period on another reason changes nothing.
        $this->assertSame('Renewal traffic allowance (Monthly)', AdminScreen::topUpLabel(
            $this->line(['reason' => 'RENEWAL', 'cycle' => 'Monthly', 'period' => '2026-11-01/2026-12-01']), new Lang('english')));
    }
}
