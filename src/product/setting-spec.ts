/** One module setting of a product, as declared in the shared manifest (also read by the PHP bridge). */
export interface ProductSettingSpec {
  key: string;
  label: string;
  type: 'text' | 'password' | 'dropdown' | 'yesno' | 'textarea';
  default: string;
  help: string;
  unit?: string;
  cycle?: string;
  options?: string[];
  loader?: string;
}
