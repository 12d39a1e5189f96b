<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The module's strings, from lang/<language>.php (WHMCS names: english, german, arabic, ...), with
 * English filling any gap. WHMCS gives server modules no language loading of their own.
 */
class Lang
{
    /** Languages written right to left. */
    const RTL = ['arabic', 'farsi', 'hebrew'];

    /** @var array<string,array<string,string>> */
    private static $loaded = [];

    /** @var string */
    private $language;

    /** @var array<string,string> */
    private $strings;

    public function __construct(string $language = 'english')
    {
        $language = strtolower(trim($language));
        if (!preg_match('/^[a-z_-]{2,32}$/', $language) || !is_file(self::file($language))) {
            $language = 'english';
        }
        $this->language = $language;
        $this->strings = self::load($language) + self::load('english');
    }

    public static function dir(): string
    {
        return dirname(__DIR__) . '/lang';
    }

    private static function file(string $language): string
    {
        return self::dir() . '/' . $language . '.php';
    }

    /** @return array<string,string> */
    public static function load(string $language): array
    {
        if (!isset(self::$loaded[$language])) {
            $_LANG = [];
            $file = self::file($language);
            if (is_file($file)) {
                include $file;
            }
            self::$loaded[$language] = is_array($_LANG) ? $_LANG : [];
        }
        return self::$loaded[$language];
    }

    /** The language of a client (tblclients.language), else WHMCS's default, else English. */
    public static function forClient(int $clientId): self
    {
        $language = '';
        if (!empty($_SESSION['Language'])) {
            $language = (string) $_SESSION['Language'];
        } elseif ($clientId > 0) {
            $language = (string) Whmcs::clientLanguage($clientId);
        }
        if ($language === '') {
            $language = Whmcs::systemLanguage();
        }
        return new self($language);
    }

    /** The admin's language when WHMCS tells it, else WHMCS's default, else English. */
    public static function forAdmin(): self
    {
        $language = !empty($_SESSION['adminlang']) ? (string) $_SESSION['adminlang'] : Whmcs::systemLanguage();
        return new self($language);
    }

    public function language(): string
    {
        return $this->language;
    }

    public function isRtl(): bool
    {
        return in_array($this->language, self::RTL, true);
    }

    public function dirAttr(): string
    {
        return $this->isRtl() ? 'rtl' : 'ltr';
    }

    /** @param array<string,string|int> $vars values for {placeholders} */
    public function t(string $key, array $vars = []): string
    {
        $text = isset($this->strings[$key]) ? $this->strings[$key] : $key;
        if ($vars) {
            $pairs = [];
            foreach ($vars as $name => $value) {
                $pairs['{' . $name . '}'] = (string) $value;
            }
            $text = strtr($text, $pairs);
        }
        return $text;
    }

    /** @return array<string,string> every string, for templates */
    public function all(): array
    {
        return $this->strings;
    }
}
