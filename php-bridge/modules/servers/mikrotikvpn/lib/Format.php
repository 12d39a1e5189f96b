<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * Presentation of exact values (the server sends exact integer bytes and bits per second).
 * One unit policy, as the server's: 1 GB = 10^9 bytes, 1 Mbit/s = 10^6 bit/s, 1 MB = 10^6 bytes.
 */
class Format
{
    const BYTES_PER_GB = 1000000000;

    /** A BigInt from the server (JSON number or digit string) as a PHP int. */
    public static function int($value): int
    {
        if (is_int($value)) {
            return $value;
        }
        if (is_string($value) && preg_match('/^-?\d+$/', $value)) {
            return (int) $value;
        }
        if (is_float($value)) {
            return (int) round($value);
        }
        return 0;
    }

    const BYTES_PER_MB = 1000000;

    /** Bytes as GB with fixed decimals, rounded half away from zero, without floats. */
    public static function gb($bytes, int $decimals = 2): string
    {
        return self::scaled($bytes, self::BYTES_PER_GB, $decimals);
    }

    /** Bytes as MB (10^6) with fixed decimals, rounded as gb() rounds. */
    public static function mbDecimal($bytes, int $decimals = 2): string
    {
        return self::scaled($bytes, self::BYTES_PER_MB, $decimals);
    }

    /**
     * A session's bytes: GB from 1 GB up, MB below (where 0.00 GB would say nothing), as the number
     * and which unit ('gb' or 'mb'); screens add the unit's word (unit_gb, unit_mb).
     *
     * @return array{0:string,1:string}
     */
    public static function size($bytes): array
    {
        $mb = self::mbDecimal($bytes);
        // 999,999,999 bytes is "1.00 GB", not "1000.00 MB".
        return strlen(ltrim(strtok($mb, '.'), '-')) >= 4 ? [self::gb($bytes), 'gb'] : [$mb, 'mb'];
    }

    private static function scaled($bytes, int $unit, int $decimals): string
    {
        $bytes = self::int($bytes);
        $negative = $bytes < 0;
        $abs = $negative ? -$bytes : $bytes;
        $scale = 10 ** $decimals;
        // (abs * scale) can exceed PHP_INT_MAX only above 9.2 EB / scale; split to stay exact.
        $whole = intdiv($abs, $unit);
        $rest = $abs % $unit;
        $fraction = intdiv($rest * $scale * 2 + $unit, $unit * 2);
        if ($fraction >= $scale) {
            $whole += 1;
            $fraction -= $scale;
        }
        $text = $decimals > 0 ? $whole . '.' . str_pad((string) $fraction, $decimals, '0', STR_PAD_LEFT) : (string) $whole;
        return ($negative && ($whole > 0 || $fraction > 0)) ? '-' . $text : $text;
    }

    /** The minus sign of signed amounts (U+2212). */
    const MINUS = "\u{2212}";

    /**
     * Bytes as a signed GB amount: "+100.00", "−5.00" (U+2212, never "+-5.00"), and "0.00" without a
     * sign. Screens show it inside a left-to-right isolate, so right-to-left languages read it as written.
     */
    public static function signedGb($bytes, int $decimals = 2): string
    {
        $bytes = self::int($bytes);
        $text = self::gb($bytes < 0 ? -$bytes : $bytes, $decimals);
        if (!preg_match('/[1-9]/', $text)) {
            return $text;
        }
        return ($bytes < 0 ? self::MINUS : '+') . $text;
    }

    /** Bits per second as Mbit/s ("10", "0.5"); 0 = no limit (returned as null). */
    public static function mbps($bitsPerSecond): ?string
    {
        $bits = self::int($bitsPerSecond);
        if ($bits <= 0) {
            return null;
        }
        $whole = intdiv($bits, 1000000);
        $rest = $bits % 1000000;
        if ($rest === 0) {
            return (string) $whole;
        }
        return $whole . '.' . rtrim(str_pad((string) $rest, 6, '0', STR_PAD_LEFT), '0');
    }

    /** Bytes as whole MB (10^6), rounded down: WHMCS's bwusage/bwlimit columns. */
    public static function mb($bytes): int
    {
        $bytes = self::int($bytes);
        return $bytes > 0 ? intdiv($bytes, 1000000) : 0;
    }

    /** Seconds as "3d 04:05:06" or "04:05:06". */
    public static function uptime($seconds): string
    {
        $s = max(0, self::int($seconds));
        $days = intdiv($s, 86400);
        $clock = sprintf('%02d:%02d:%02d', intdiv($s % 86400, 3600), intdiv($s % 3600, 60), $s % 60);
        return $days > 0 ? $days . 'd ' . $clock : $clock;
    }

    /** An ISO-8601 date-time from the server as "Y-m-d H:i:s" in PHP's (WHMCS's) time zone. */
    public static function dateTime(?string $iso): string
    {
        if ($iso === null || $iso === '') {
            return '';
        }
        $t = strtotime($iso);
        return $t === false ? $iso : date('Y-m-d H:i:s', $t);
    }

    /** How long ago an ISO-8601 date-time was, as uptime() writes it ("00:01:05"); '' when unknown. */
    public static function ago(?string $iso, ?int $now = null): string
    {
        $t = $iso === null || $iso === '' ? false : strtotime($iso);
        if ($t === false) {
            return '';
        }
        return self::uptime(max(0, ($now === null ? time() : $now) - $t));
    }

    /**
     * An ISO-8601 date-time from the server as "Y-m-d H:i:s" in an IANA time zone (the account's
     * timeZone, the WHMCS time zone the server counts days in), so that every screen shows the same
     * wall-clock time whatever this PHP's zone is. An unknown zone falls back to PHP's.
     */
    public static function dateTimeIn(?string $iso, string $zone): string
    {
        if ($iso === null || $iso === '') {
            return '';
        }
        try {
            $t = new \DateTimeImmutable($iso);
        } catch (\Exception $e) {
            return $iso;
        }
        return $t->setTimezone(self::zone($zone))->format('Y-m-d H:i:s');
    }

    /** An IANA time zone by name; PHP's own (WHMCS's) when the name is empty or unknown. */
    public static function zone(string $zone): \DateTimeZone
    {
        $zone = trim($zone);
        try {
            return new \DateTimeZone($zone !== '' ? $zone : date_default_timezone_get());
        } catch (\Exception $e) {
            return new \DateTimeZone(date_default_timezone_get());
        }
    }

    /**
     * A time a person typed, as the UTC ISO-8601 instant the server takes: a wall-clock time
     * ("2026-12-06 10:05", "2026-12-06T10:05:30") in the given time zone, or one written with Z or an
     * offset ("2026-12-06T09:05:30Z", "...+01:00") as written. Null when it is not such a time
     * (31 February included).
     */
    public static function localToUtcIso(string $input, string $zone): ?string
    {
        $input = (string) preg_replace('/^(\\d{4}-\\d\\d-\\d\\d)[T ]\\s*/i', '$1 ', trim($input));
        $tz = self::zone($zone);
        if (preg_match('/^(.*?)\s*(Z|UTC|[+-]\d\d:?\d\d)$/i', $input, $m)) {
            $input = $m[1];
            $offset = strtoupper($m[2]);
            $tz = new \DateTimeZone($offset === 'Z' || $offset === 'UTC' ? 'UTC' : $offset);
        }
        foreach (['Y-m-d H:i:s', 'Y-m-d H:i', 'Y-m-d H:i:s.u'] as $format) {
            $t = \DateTimeImmutable::createFromFormat('!' . $format, $input, $tz);
            $errors = \DateTimeImmutable::getLastErrors();
            $clean = !is_array($errors) || ($errors['warning_count'] === 0 && $errors['error_count'] === 0);
            if ($t !== false && $clean) {
                return $t->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\\TH:i:s.v\\Z');
            }
        }
        return null;
    }

    /** An ISO-8601 date-time from the server as "Y-m-d" (WHMCS shows dates itself elsewhere). */
    public static function date(?string $iso): string
    {
        if ($iso === null || $iso === '') {
            return '';
        }
        $t = strtotime($iso);
        return $t === false ? $iso : date('Y-m-d', $t);
    }

    /**
     * A cycle as the server names it ("2026-11-01/2026-12-01": its first day and the day it ended, in
     * WHMCS's time zone) as two days the way the screens show days, kept left to right inside
     * right-to-left text: "2026-11-01 – 2026-12-01". '' when it is not such a pair.
     */
    public static function period(string $period): string
    {
        if (!preg_match('#^(\d{4}-\d\d-\d\d)/(\d{4}-\d\d-\d\d)$#', trim($period), $m)) {
            return '';
        }
        return "\u{2066}" . $m[1] . " \u{2013} " . $m[2] . "\u{2069}";
    }

    /**
     * The balance's carried-over part, for the line next to it: "3.00 GB of it carried over, usable
     * until 2026-12-01" (the day the soonest-expiring carried-over traffic expires, in the account's
     * time zone). '' when none of the balance is carried over.
     *
     * @param array<string,mixed> $traffic an AccountTraffic (carriedOverBytes, carriedOverExpiresAt)
     */
    public static function carriedOver(array $traffic, string $zone, Lang $lang): string
    {
        $bytes = isset($traffic['carriedOverBytes']) ? $traffic['carriedOverBytes'] : 0;
        if (!preg_match('/^\d+$/', (string) $bytes) || ltrim((string) $bytes, '0') === '') {
            return '';
        }
        $expires = isset($traffic['carriedOverExpiresAt']) ? (string) $traffic['carriedOverExpiresAt'] : '';
        $date = $expires === '' ? '' : substr(self::dateTimeIn($expires, $zone), 0, 10);
        return $lang->t('carried_over', [
            'amount' => self::gb($bytes) . ' ' . $lang->t('unit_gb'),
            'date' => "\u{2066}" . $date . "\u{2069}",
        ]);
    }
}
