<?php
// WHMCS 7.9+'s Usage Billing classes, as far as a module's MetricProvider uses them (the names and
// signatures of WHMCS's class documentation; the bodies are the stand-in's own, minimal).

namespace WHMCS\UsageBilling\Contracts\Metrics {
    interface UnitInterface
    {
        public function suffix();
    }

    interface UsageInterface
    {
        public function collectedAt();
        public function startAt();
        public function endAt();
        public function value();
    }

    interface MetricInterface
    {
        const TYPE_SNAPSHOT = 'snapshot';
        const TYPE_PERIOD_DAY = 'day';
        const TYPE_PERIOD_MONTH = 'month';

        public function usage();
        public function withUsage(?UsageInterface $usage = null);
        public function units();
        public function systemName();
        public function displayName();
        public function type();
    }

    interface ProviderInterface
    {
        public function metrics();
        public function tenantUsage($tenant);
        public function usage();
    }
}

namespace WHMCS\UsageBilling\Metrics\Units {
    use WHMCS\UsageBilling\Contracts\Metrics\UnitInterface;

    class GigaBytes implements UnitInterface
    {
        public function suffix()
        {
            return 'GB';
        }
    }
}

namespace WHMCS\UsageBilling\Metrics {
    use WHMCS\UsageBilling\Contracts\Metrics\MetricInterface;
    use WHMCS\UsageBilling\Contracts\Metrics\UnitInterface;
    use WHMCS\UsageBilling\Contracts\Metrics\UsageInterface;

    class Usage implements UsageInterface
    {
        private $value;
        private $collectedAt;
        private $startAt;
        private $endAt;

        public function __construct($value, $collectedAt = null, $startAt = null, $endAt = null)
        {
            $this->value = (float) $value;
            $this->collectedAt = $collectedAt;
            $this->startAt = $startAt;
            $this->endAt = $endAt;
        }

        public function collectedAt()
        {
            return $this->collectedAt;
        }

        public function startAt()
        {
            return $this->startAt;
        }

        public function endAt()
        {
            return $this->endAt;
        }

        public function value()
        {
            return $this->value;
        }
    }

    class Metric implements MetricInterface
    {
        private $systemName;
        private $displayName;
        private $type;
        private $units;
        private $usage;

        public function __construct($systemName, $displayName = null, $type = null, ?UnitInterface $units = null, ?UsageInterface $usage = null)
        {
            $this->systemName = $systemName;
            $this->displayName = $displayName;
            $this->type = $type ?: self::TYPE_SNAPSHOT;
            $this->units = $units;
            $this->usage = $usage;
        }

        public function usage()
        {
            return $this->usage;
        }

        public function withUsage(?UsageInterface $usage = null)
        {
            return new self($this->systemName, $this->displayName, $this->type, $this->units, $usage);
        }

        public function units()
        {
            return $this->units;
        }

        public function systemName()
        {
            return $this->systemName;
        }

        public function displayName()
        {
            return $this->displayName;
        }

        public function type()
        {
            return $this->type;
        }
    }
}
