<?php
// Loads the WHMCS stand-in and the module for the PHPUnit tests.
error_reporting(E_ALL);
define('WHMCS', true);
require_once __DIR__ . '/Capsule.php';
require_once __DIR__ . '/functions.php';
require_once __DIR__ . '/Terminus.php';
require_once __DIR__ . '/StandIn.php';
require_once __DIR__ . '/UsageBilling.php';
\WhmcsStandIn\StandIn::boot();
