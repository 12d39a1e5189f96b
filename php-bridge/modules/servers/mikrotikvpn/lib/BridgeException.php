<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * A failed call to the GraphQL server. `code` is the server's `extensions.code`, or one of the
 * bridge's own transport codes (CONFIG, NETWORK, TIMEOUT, HTTP, BAD_RESPONSE). The message is one
 * sentence a WHMCS admin (or customer) can read; it never holds a password or the API key.
 */
class BridgeException extends \RuntimeException
{
    /** The bridge's own transport codes (the server's are in ErrorCode). */
    const CONFIG = 'CONFIG';
    const NETWORK = 'NETWORK';
    const TIMEOUT = 'TIMEOUT';
    const HTTP = 'HTTP';
    const BAD_RESPONSE = 'BAD_RESPONSE';

    /** @var string */
    private $errorCode;

    public function __construct(string $errorCode, string $message, ?\Throwable $previous = null)
    {
        parent::__construct($message, 0, $previous);
        $this->errorCode = $errorCode;
    }

    /** @var array<string,mixed> the server's `extensions` (e.g. `setting` and `reason` of a VALIDATION) */
    private $extensions = [];

    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** @param array<string,mixed> $extensions */
    public function withExtensions(array $extensions): self
    {
        $this->extensions = $extensions;
        return $this;
    }

    /** @return array<string,mixed> */
    public function getExtensions(): array
    {
        return $this->extensions;
    }
}
