import { Field, InputType } from 'type-graphql';
import { BytesScalar, JSONScalar } from '../../scalars.js';
import { StorageKindEnum } from './storage.types.js';

@InputType('BackupSpaceInput')
export class BackupSpaceInput {
  @Field(() => String) name!: string;
  @Field(() => BytesScalar) capacityBytes!: number;
}

@InputType('CreateStorageSystemInput')
export class CreateStorageSystemInput {
  @Field(() => String) name!: string;
  @Field(() => StorageKindEnum) kind!: StorageKindEnum;
  @Field(() => JSONScalar, {
    description:
      'FILESYSTEM: { "root": "/abs/path" }; S3: { "endpoint", "region", "accessKeyId", "secretAccessKey", "forcePathStyle" } (the secret is stored encrypted and never returned)',
  })
  config!: unknown;
  @Field(() => [BackupSpaceInput], { description: 'FILESYSTEM: sub-directories of root; S3: bucket names' })
  spaces!: BackupSpaceInput[];
}
