<?php
/**
 * Test equipment: WHMCS\Terminus, how WHMCS ends a request (module functions that answer a download
 * or a page of their own call doExit after their output). Here it throws ProgramExit instead, so a
 * test can take the output and go on.
 */

namespace WhmcsStandIn {
    class ProgramExit extends \RuntimeException
    {
    }
}

namespace WHMCS {
    class Terminus
    {
        /** @var Terminus|null */
        private static $instance = null;

        /** @var int how many times a request was ended */
        public static $exits = 0;

        public static function getInstance(): self
        {
            if (self::$instance === null) {
                self::$instance = new self();
            }
            return self::$instance;
        }

        public function doExit($status = 0)
        {
            self::$exits++;
            throw new \WhmcsStandIn\ProgramExit('WHMCS ended the request');
        }
    }
}
