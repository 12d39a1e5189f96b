import { registerEnumType } from 'type-graphql';
import { ErrorCode } from '../../errors/error-code';

/** The closed list of error codes, published in the schema (errors/error-code.ts is their one home). */
registerEnumType(ErrorCode, {
  name: 'ErrorCode',
  description:
    'Every code an error may carry in `extensions.code`, and that `errorCode` fields hold. Codes are added, never renamed.',
});

export { ErrorCode };
