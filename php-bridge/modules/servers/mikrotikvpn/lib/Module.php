<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * Shared by every part of the module: its name, the account fields screens read, and the one way a
 * module function turns a failure into the sentence WHMCS shows.
 */
class Module
{
    const NAME = 'mikrotikvpn';

    const ACCOUNT_FIELDS = 'serviceId username status statusReason routerProblem address billingCycle clientId
        router { id name host }
        product { id name profile service }
        bandwidth { downloadBitsPerSecond uploadBitsPerSecond }
        traffic { balanceBytes cycleAllowanceBytes unlimited carriedOverBytes carriedOverExpiresAt }';

    /** The notification thresholds reached this cycle (admin tab, client area). */
    const THRESHOLD_FIELDS = 'thresholdsReached { threshold reachedAt times }';

    const CONNECTION_FIELDS = 'connection { online service callerId address uptimeSeconds }';

    /** WireGuard accounts: the protocol and the peer's state (null for PPP). No key but the public one. */
    const WIREGUARD_FIELDS = 'protocol
        wireguard { interface publicKey endpoint online lastHandshake currentEndpoint downloadBytes uploadBytes live }';

    /** The customer's config: holds the private key, so only the client area asks for it (and never logs it). */
    const WIREGUARD_CONFIG_FIELDS = 'wireGuardConfig { fileName text qrSvg }';

    public static function addonId(array $params): int
    {
        foreach (['addonId', 'addonid'] as $k) {
            if (!empty($params[$k])) {
                return (int) $params[$k];
            }
        }
        return 0;
    }

    /**
     * Answers the request with this body and ends it, for what is not a WHMCS page (a CSV download,
     * the address lookup): what WHMCS buffered for its page is dropped, the headers and the body go
     * out, and WHMCS ends the request (WHMCS\Terminus, so its shutdown runs; exit without WHMCS).
     *
     * @param string[] $headers
     */
    public static function respond(array $headers, string $body): void
    {
        if (ob_get_level() > 0) {
            ob_clean();
        }
        if (!headers_sent()) {
            foreach ($headers as $header) {
                header($header);
            }
        }
        echo $body;
        if (class_exists('WHMCS\\Terminus')) {
            \WHMCS\Terminus::getInstance()->doExit();
        }
        exit;
    }

    /** Turns a BridgeException (or anything) into the one sentence WHMCS shows. */
    public static function guard(callable $work): string
    {
        try {
            return $work();
        } catch (BridgeException $e) {
            return $e->getMessage();
        } catch (\Throwable $e) {
            if (function_exists('logModuleCall')) {
                logModuleCall(self::NAME, 'error', '', get_class($e) . ': ' . $e->getMessage(), '', []);
            }
            return Lang::forAdmin()->t('err_internal');
        }
    }
}
