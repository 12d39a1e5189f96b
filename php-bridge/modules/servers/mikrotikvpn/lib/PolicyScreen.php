<?php

namespace WHMCS\Module\Server\MikrotikVpn;

/**
 * The product's quota policy ("when traffic is used up") on its Module Settings tab. The policy is
 * not a module setting (WHMCS's 24 slots are nearly all taken) but a row of the server's own table:
 * its inputs are drawn inside the description of the "traffic used up" email template setting, and
 * WHMCS's ProductEdit hook, which runs as the product is saved, sends them to the server in one
 * setProductPolicy call. The server checks them; a refusal is shown in the admin's language the next
 * time the tab is drawn (a hook cannot stop WHMCS from saving the product).
 */
class PolicyScreen
{
    /** The name of the inputs' array in the product form. */
    const FIELD = 'mvpn_policy';

    /** Where a refusal waits for the next drawing of the product's tab. */
    const SESSION_KEY = 'mvpn_policy_error';

    const POLICY_FIELDS = 'policy { onExhausted throttle { downloadBitsPerSecond uploadBitsPerSecond } throttledTemplate overageCeilingBytes rollover rolloverMaxBytes rolloverCycles }';

    /** The inputs, filled with the product's stored policy (the defaults when the server cannot say). */
    public static function configBlock(Lang $lang, int $productId): string
    {
        $e = function ($s) {
            return htmlspecialchars((string) $s, ENT_QUOTES, 'UTF-8');
        };
        $values = [];
        foreach (Settings::policyAll() as $spec) {
            $values[$spec['key']] = (string) $spec['default'];
        }
        $notice = '';
        if ($productId > 0) {
            try {
                $data = (new GraphQLClient(null, $lang))->call('ProductPolicy',
                    'query($p: Int!) { product(id: $p) { ' . self::POLICY_FIELDS . ' } }', ['p' => $productId]);
                if (!empty($data['product']['policy'])) {
                    $values = array_merge($values, self::inputValues($data['product']['policy']));
                }
            } catch (BridgeException $ex) {
                $notice = $lang->t('policy_unavailable', ['error' => $ex->getMessage()]);
            }
            if (isset($_SESSION[self::SESSION_KEY][$productId])) {
                $notice = (string) $_SESSION[self::SESSION_KEY][$productId];
                unset($_SESSION[self::SESSION_KEY][$productId]);
            }
        }
        $html = '<div class="mvpn-policy" style="margin-top:8px;padding:8px;border:1px solid #ddd">'
            . '<strong>' . $e($lang->t('policy_title')) . '</strong>';
        if ($notice !== '') {
            $html .= '<div class="alert alert-danger mvpn-policy-error" style="margin:6px 0">' . $e($notice) . '</div>';
        }
        foreach (Settings::policyAll() as $spec) {
            $key = (string) $spec['key'];
            $name = self::FIELD . '[' . $key . ']';
            $label = self::label($lang, $key);
            $html .= '<div style="margin-top:6px"><label>' . $e($label) . '<br>';
            if (isset($spec['options'])) {
                $html .= '<select class="form-control select-inline" name="' . $e($name) . '">';
                foreach ($spec['options'] as $option) {
                    $html .= '<option value="' . $e($option) . '"' . ($values[$key] === $option ? ' selected' : '') . '>'
                        . $e($lang->t('policy_' . $option)) . '</option>';
                }
                $html .= '</select>';
            } elseif (isset($spec['loader']) && $spec['loader'] === 'emailTemplates') {
                $names = Whmcs::productEmailTemplates();
                if (!in_array($values[$key], $names, true)) {
                    $names[] = $values[$key];
                }
                $html .= '<select class="form-control select-inline" name="' . $e($name) . '">';
                foreach ($names as $template) {
                    $html .= '<option value="' . $e($template) . '"' . ($values[$key] === $template ? ' selected' : '') . '>'
                        . $e($template === '' ? '—' : $template) . '</option>';
                }
                $html .= '</select>';
            } else {
                $html .= '<input type="text" class="form-control input-inline" size="' . $e(isset($spec['size']) ? $spec['size'] : 8)
                    . '" name="' . $e($name) . '" value="' . $e($values[$key]) . '">'
                    . (isset($spec['unit']) ? ' ' . $e($spec['unit']) : '');
            }
            $help = $lang->t('setting_' . $key . '_help');
            $html .= '</label>' . ($help !== 'setting_' . $key . '_help' ? '<br><small>' . $e($help) . '</small>' : '') . '</div>';
        }
        return $html . '</div>';
    }

    /**
     * ProductEdit: the policy inputs posted with the product go to the server. Nothing is sent when
     * the form had no policy inputs (another module's product, or a save from elsewhere).
     *
     * @param array<string,mixed> $vars the hook's variables (pid, servertype, ...)
     * @param array<string,mixed> $post the posted form
     */
    public static function productEdit(array $vars, array $post): void
    {
        $productId = isset($vars['pid']) ? (int) $vars['pid'] : 0;
        $ours = !isset($vars['servertype']) || (string) $vars['servertype'] === Module::NAME;
        if ($productId <= 0 || !$ours || !isset($post[self::FIELD]) || !is_array($post[self::FIELD])) {
            return;
        }
        $posted = $post[self::FIELD];
        $text = function ($key) use ($posted) {
            return isset($posted[$key]) && is_scalar($posted[$key]) ? trim((string) $posted[$key]) : null;
        };
        $input = [
            'productId' => $productId,
            'onExhausted' => (string) $text('onExhausted'),
            'throttleDownloadMbps' => $text('throttleDownloadMbps'),
            'throttleUploadMbps' => $text('throttleUploadMbps'),
            'throttledTemplate' => $text('throttledTemplate'),
            'overageCeilingGb' => $text('overageCeilingGb'),
            'rollover' => $text('rollover'),
            'rolloverMaxGb' => $text('rolloverMaxGb'),
            'rolloverCycles' => $text('rolloverCycles'),
        ];
        $lang = Lang::forAdmin();
        try {
            (new GraphQLClient(null, $lang))->call('SetProductPolicy',
                'mutation($i: ProductPolicyInput!) { setProductPolicy(input: $i) { id } }', ['i' => $input]);
        } catch (BridgeException $ex) {
            $message = self::refusal($lang, $ex);
            $_SESSION[self::SESSION_KEY][$productId] = $message;
            if (function_exists('logActivity')) {
                logActivity('MikroTik VPN: product ' . $productId . ': ' . $message);
            }
        } catch (\Throwable $ex) {
            if (function_exists('logModuleCall')) {
                logModuleCall(Module::NAME, 'ProductEdit', '', get_class($ex) . ': ' . $ex->getMessage(), '', []);
            }
        }
    }

    /** A refusal in the admin's language: the setting's label and the reason the server gave. */
    public static function refusal(Lang $lang, BridgeException $ex): string
    {
        $ext = $ex->getExtensions();
        if ($ex->getErrorCode() !== ErrorCode::VALIDATION || empty($ext['setting'])) {
            return $lang->t('err_policy_not_saved', ['setting' => $lang->t('policy_title'), 'reason' => $ex->getMessage()]);
        }
        $reasonKey = 'err_policy_' . (isset($ext['reason']) ? (string) $ext['reason'] : '');
        $reason = $lang->t($reasonKey);
        return $lang->t('err_policy_not_saved', [
            'setting' => self::label($lang, (string) $ext['setting']),
            'reason' => $reason === $reasonKey ? $ex->getMessage() : $reason,
        ]);
    }

    /** The label of a policy setting in the admin's language (the manifest's English without one). */
    private static function label(Lang $lang, string $key): string
    {
        $label = $lang->t('setting_' . $key);
        if ($label !== 'setting_' . $key) {
            return $label;
        }
        try {
            return (string) Settings::policySpec($key)['label'];
        } catch (\RuntimeException $ex) {
            return $key;
        }
    }

    /**
     * The stored policy as the inputs show it: speeds in Mbit/s, the ceiling and the carry-over cap in GB,
     * exactly (no cap: empty), the carry-over's cycles as a whole number.
     *
     * @param array<string,mixed> $policy
     * @return array<string,string>
     */
    private static function inputValues(array $policy): array
    {
        $values = ['onExhausted' => (string) $policy['onExhausted'], 'throttledTemplate' => (string) $policy['throttledTemplate']];
        $throttle = isset($policy['throttle']) && is_array($policy['throttle']) ? $policy['throttle'] : [];
        if (!empty($throttle['downloadBitsPerSecond'])) {
            $values['throttleDownloadMbps'] = (string) Format::mbps($throttle['downloadBitsPerSecond']);
        }
        if (!empty($throttle['uploadBitsPerSecond'])) {
            $values['throttleUploadMbps'] = (string) Format::mbps($throttle['uploadBitsPerSecond']);
        }
        if (isset($policy['overageCeilingBytes']) && $policy['overageCeilingBytes'] !== null) {
            $values['overageCeilingGb'] = self::exactGb($policy['overageCeilingBytes']);
        }
        if (isset($policy['rollover'])) {
            $values['rollover'] = (string) $policy['rollover'];
        }
        if (array_key_exists('rolloverMaxBytes', $policy)) {
            // No cap is an empty input (0 is a cap: nothing is carried).
            $values['rolloverMaxGb'] = $policy['rolloverMaxBytes'] === null ? '' : self::exactGb($policy['rolloverMaxBytes']);
        }
        if (isset($policy['rolloverCycles'])) {
            $values['rolloverCycles'] = (string) $policy['rolloverCycles'];
        }
        return $values;
    }

    /** Bytes as the GB an admin would type: exact to the byte, without trailing zeros ("12.5", "0"). */
    private static function exactGb($bytes): string
    {
        $gb = Format::gb($bytes, 9);
        return strpos($gb, '.') === false ? $gb : rtrim(rtrim($gb, '0'), '.');
    }
}
