<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * What the screens show of a WireGuard account: the client area's block (the peer's state, the
 * customer's config as a download and its QR code, each checked before it is inlined) and the admin
 * tab's peer state. Only the public key is ever shown to an admin.
 */
class WireGuardView
{
    /**
     * The WireGuard block: the peer's state and the customer's config (download and QR code).
     *
     * @param array<string,mixed> $account a VpnAccount with WIREGUARD_FIELDS and WIREGUARD_CONFIG_FIELDS
     * @return array<string,mixed>
     */
    public static function clientVars(array $account, Lang $lang): array
    {
        $peer = isset($account['wireguard']) && is_array($account['wireguard']) ? $account['wireguard'] : [];
        $config = isset($account['wireGuardConfig']) && is_array($account['wireGuardConfig']) ? $account['wireGuardConfig'] : null;
        $handshake = isset($peer['lastHandshake']) ? (string) $peer['lastHandshake'] : '';
        $vars = [
            'endpoint' => isset($peer['endpoint']) ? (string) $peer['endpoint'] : '',
            'online' => !empty($peer['online']),
            'live' => !empty($peer['live']),
            'lastHandshake' => Format::dateTime($handshake),
            'handshakeAgo' => $handshake === '' ? '' : $lang->t('wg_ago', ['time' => Format::ago($handshake)]),
            'currentEndpoint' => isset($peer['currentEndpoint']) ? (string) $peer['currentEndpoint'] : '',
            'fileName' => '',
            'configBase64' => '',
            'qrSvg' => '',
        ];
        if ($config && isset($config['text']) && (string) $config['text'] !== '') {
            $vars['fileName'] = self::safeFileName(isset($config['fileName']) ? (string) $config['fileName'] : '');
            $vars['configBase64'] = base64_encode((string) $config['text']);
            $vars['qrSvg'] = self::safeSvg(isset($config['qrSvg']) ? (string) $config['qrSvg'] : '');
        }
        return $vars;
    }

    /** The config's file name as the download attribute takes it: no path, no quotes; else wireguard.conf. */
    public static function safeFileName(string $name): string
    {
        $name = preg_replace('/[^A-Za-z0-9._-]/', '', basename(str_replace('\\', '/', $name)));
        return $name === '' || $name[0] === '.' ? 'wireguard.conf' : $name;
    }

    /**
     * The server's QR code SVG, inlined only when it is what its qrcode library writes: one <svg>
     * element of shapes, without scripts, event attributes, links or foreign content. Else ''.
     */
    public static function safeSvg(string $svg): string
    {
        $svg = trim($svg);
        if (!preg_match('/^<svg[\s>]/i', $svg) || !preg_match('/<\/svg>$/i', $svg)) {
            return '';
        }
        if (preg_match('/<script|[\s\/"\']on[a-z]+\s*=|javascript:|href|url\s*\(|&#|<!|<\?|<foreignobject|<iframe|<use/i', $svg)) {
            return '';
        }
        preg_match_all('/<\/?\s*([a-z][a-z0-9:_-]*)/i', $svg, $tags);
        foreach ($tags[1] as $tag) {
            if (!in_array(strtolower($tag), ['svg', 'path', 'rect', 'g', 'title', 'desc'], true)) {
                return '';
            }
        }
        return $svg;
    }

    /**
     * A WireGuard peer's live state: online while its last handshake is recent (the server decides),
     * where the router last heard it from, and its counters since the router started.
     *
     * @param array<string,mixed> $peer a WireGuardPeerStatus
     */
    public static function peerStateHtml(array $peer, Lang $lang): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $html = !empty($peer['online'])
            ? '<span class="label label-success badge badge-success">' . $e($lang->t('online')) . '</span>'
            : '<span class="label label-danger badge badge-danger">' . $e($lang->t('offline')) . '</span>';
        $handshake = isset($peer['lastHandshake']) ? (string) $peer['lastHandshake'] : '';
        $html .= ' ' . $e($lang->t('wg_last_handshake')) . ': ' . ($handshake === '' ? $e($lang->t('wg_never'))
            : '<bdi dir="ltr">' . $e(Format::dateTime($handshake)) . '</bdi> (' . $e($lang->t('wg_ago', ['time' => Format::ago($handshake)])) . ')');
        if (!empty($peer['currentEndpoint'])) {
            $html .= ' &middot; ' . $e($lang->t('conn_caller')) . ': <code>' . $e($peer['currentEndpoint']) . '</code>';
        }
        if (isset($peer['downloadBytes']) || isset($peer['uploadBytes'])) {
            $html .= ' &middot; ' . $e($lang->t('wg_counters')) . ': '
                . $e($lang->t('usage_download')) . ' <bdi dir="ltr">' . $e(Format::gb(isset($peer['downloadBytes']) ? $peer['downloadBytes'] : 0)) . '</bdi> ' . $e($lang->t('unit_gb')) . ', '
                . $e($lang->t('usage_upload')) . ' <bdi dir="ltr">' . $e(Format::gb(isset($peer['uploadBytes']) ? $peer['uploadBytes'] : 0)) . '</bdi> ' . $e($lang->t('unit_gb'));
        }
        if (empty($peer['live'])) {
            $html .= ' <span class="label label-warning badge badge-warning">!</span> ' . $e($lang->t('wg_not_live'));
        }
        return $html;
    }
}
