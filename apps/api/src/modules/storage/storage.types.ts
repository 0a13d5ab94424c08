import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BytesScalar } from '../../scalars.js';

export enum StorageKindEnum {
  FILESYSTEM = 'FILESYSTEM',
  S3 = 'S3',
}
registerEnumType(StorageKindEnum, { name: 'StorageKind' });

@ObjectType('BackupSpace')
export class BackupSpaceView {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => BytesScalar) capacityBytes!: number;
  @Field(() => BytesScalar) usedBytes!: number;
  @Field(() => BytesScalar) remainingBytes!: number;
}

@ObjectType('StorageSystem')
export class StorageSystemView {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => StorageKindEnum) kind!: StorageKindEnum;
  @Field(() => [BackupSpaceView]) spaces!: BackupSpaceView[];
  @Field(() => BytesScalar, { description: 'sum over spaces' }) capacityBytes!: number;
  @Field(() => BytesScalar) remainingBytes!: number;
  @Field(() => Boolean) healthy!: boolean;
}
