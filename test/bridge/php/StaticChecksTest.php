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

    /**
     * The module must run on PHP 7.4 (WHMCS 8.x), but only PHP 8 is in Debian's packages here. So
     * the module's tokens are scanned for what PHP 8 added: syntax (match, ?->, attributes, enums,
     * readonly, named arguments, union or mixed types, constructor promotion) and functions.
     */
    public function testTheModuleUsesNothingNewerThanPhp74(): void
    {
        $root = dirname(__DIR__, 3) . '/php-bridge';
        $newTokens = ['T_MATCH', 'T_NULLSAFE_OBJECT_OPERATOR', 'T_ATTRIBUTE', 'T_ENUM', 'T_READONLY'];
        $newFunctions = ['str_contains', 'str_starts_with', 'str_ends_with', 'array_is_list',
            'get_debug_type', 'fdiv', 'get_resource_id', 'preg_last_error_msg'];
        $checked = 0;
        $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS));
        foreach ($it as $file) {
            if (substr((string) $file, -4) !== '.php') {
                continue;
            }
            $checked++;
            $source = (string) file_get_contents((string) $file);
            $tokens = array_values(array_filter(token_get_all($source), function ($t) {
                return !is_array($t) || !in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true);
            }));
            foreach ($tokens as $i => $t) {
                $where = $file . ':' . (is_array($t) ? $t[2] : '?');
                if (is_array($t)) {
                    $this->assertNotContains(token_name($t[0]), $newTokens, $where . ' uses ' . $t[1]);
                    if ($t[0] === T_STRING) {
                        $next = $tokens[$i + 1] ?? null;
                        $this->assertFalse(in_array(strtolower($t[1]), $newFunctions, true) && $next === '(',
                            $where . ' calls ' . $t[1] . '()');
                        // Named arguments: `f(name: value)` (but not `?:` or a ternary's `:`).
                        $prev = $tokens[$i - 1] ?? null;
                        $this->assertFalse(($prev === '(' || $prev === ',') && $next === ':',
                            $where . ' passes a named argument ' . $t[1] . ':');
                        $this->assertFalse(strtolower($t[1]) === 'mixed' && $prev === ':' ,
                            $where . ' declares a mixed return type');
                    }
                    // Constructor promotion: a visibility keyword inside a parameter list.
                    if (in_array($t[0], [T_PUBLIC, T_PROTECTED, T_PRIVATE], true)) {
                        $prev = $tokens[$i - 1] ?? null;
                        $this->assertFalse($prev === '(' || $prev === ',', $where . ' promotes a constructor parameter');
                    }
                }
                // Union types in a signature: `int|string $x` or `): int|null`.
                if ($t === '|' && isset($tokens[$i + 1], $tokens[$i - 1]) && is_array($tokens[$i - 1])
                    && is_array($tokens[$i + 1]) && $tokens[$i + 1][0] === T_STRING
                    && in_array(strtolower($tokens[$i + 1][1]), ['int', 'string', 'float', 'bool', 'array', 'null', 'false'], true)
                    && in_array(strtolower($tokens[$i - 1][1]), ['int', 'string', 'float', 'bool', 'array', 'null', 'false'], true)) {
                    $this->fail($where . ' declares a union type');
                }
            }
        }
        $this->assertGreaterThan(30, $checked);
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
