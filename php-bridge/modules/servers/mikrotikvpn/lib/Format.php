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

    /** Bytes as GB with fixed decimals, rounded half away from zero, without floats. */
    public static function gb($bytes, int $decimals = 2): string
    {
        $bytes = self::int($bytes);
        $negative = $bytes < 0;
        $abs = $negative ? -$bytes : $bytes;
        $scale = 10 ** $decimals;
        // (abs * scale) can exceed PHP_INT_MAX only above 9.2 EB / scale; split to stay exact.
        $whole = intdiv($abs, self::BYTES_PER_GB);
        $rest = $abs % self::BYTES_PER_GB;
        $fraction = intdiv($rest * $scale * 2 + self::BYTES_PER_GB, self::BYTES_PER_GB * 2);
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

    /** An ISO-8601 date-time from the server as "Y-m-d" (WHMCS shows dates itself elsewhere). */
    public static function date(?string $iso): string
    {
        if ($iso === null || $iso === '') {
            return '';
        }
        $t = strtotime($iso);
        return $t === false ? $iso : date('Y-m-d', $t);
    }
}
