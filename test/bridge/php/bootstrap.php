<?php
require_once __DIR__ . '/../whmcs-standin/bootstrap.php';
require_once __DIR__ . '/BridgeTestCase.php';
