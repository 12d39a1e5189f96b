<?php

use PHPUnit\Framework\TestCase;
use WHMCS\Module\Server\MikrotikVpn\Lang;

/** php -l on every PHP file, and every language complete. No server needed. */
class StaticChecksTest extends TestCase
{
    const LANGUAGES = ['arabic', 'azerbaijani', 'catalan', 'chinese', 'croatian', 'czech', 'danish', 'dutch',
        'english', 'estonian', 'farsi', 'french', 'german', 'hebrew', 'hungarian', 'italian', 'macedonian',
        'norwegian', 'polish', 'romanian', 'russian', 'spanish', 'swedish', 'turkish', 'ukrainian'];

    public function testEveryPhpFilePassesPhpLint(): void
    {
        $root = dirname(__DIR__, 3);
        $files = [];
        foreach (['php-bridge', 'test/bridge'] as $dir) {
            $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root . '/' . $dir, FilesystemIterator::SKIP_DOTS));
            foreach ($it as $file) {
                if (substr((string) $file, -4) === '.php') {
                    $files[] = (string) $file;
                }
            }
        }
        $this->assertGreaterThan(40, count($files));
        foreach ($files as $file) {
            exec(escapeshellarg(PHP_BINARY) . ' -l ' . escapeshellarg($file) . ' 2>&1', $out, $code);
            $this->assertSame(0, $code, $file . ': ' . implode("\n", $out));
        }
    }

    public function testShipsTheTwentyFiveLanguagesEachWithEveryEnglishKey(): void
    {
        $files = array_map(function ($f) {
            return basename($f, '.php');
        }, glob(Lang::dir() . '/*.php'));
        sort($files);
        $this->assertSame(self::LANGUAGES, $files);
        $english = Lang::load('english');
        $this->assertGreaterThan(100, count($english));
        foreach (self::LANGUAGES as $language) {
            $strings = Lang::load($language);
            $missing = array_diff(array_keys($english), array_keys($strings));
            $this->assertSame([], array_values($missing), $language . ' misses keys');
            $extra = array_diff(array_keys($strings), array_keys($english));
            $this->assertSame([], array_values($extra), $language . ' has keys English does not have');
            $same = 0;
            foreach ($english as $key => $text) {
                $this->assertNotSame('', trim((string) $strings[$key]), $language . ': ' . $key . ' is empty');
                preg_match_all('/\{[a-z]+\}/', $text, $want);
                preg_match_all('/\{[a-z]+\}/', (string) $strings[$key], $got);
                sort($want[0]);
                sort($got[0]);
                $this->assertSame($want[0], $got[0], $language . ': placeholders of ' . $key);
                if ($strings[$key] === $text) {
                    $same++;
                }
            }
            if ($language !== 'english') {
                // Units, protocol names and the like may stay; sentences must be translated.
                $this->assertLessThan(count($english) * 0.2, $same, $language . ' looks like an English copy');
            }
        }
    }

    public function testRightToLeftLanguagesAreMarked(): void
    {
        foreach (['arabic', 'farsi', 'hebrew'] as $language) {
            $this->assertSame('rtl', (new Lang($language))->dirAttr());
        }
        $this->assertSame('ltr', (new Lang('german'))->dirAttr());
        $this->assertSame('english', (new Lang('klingon'))->language(), 'unknown languages fall back to English');
        $this->assertSame('english', (new Lang('../../etc/passwd'))->language());
    }
}
