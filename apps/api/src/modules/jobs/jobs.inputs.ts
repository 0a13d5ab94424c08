import { Field, ID, InputType } from 'type-graphql';
import { BytesScalar } from '../../scalars.js';
import { BackupManifestInput } from '../chunks/chunks.inputs.js';
import { BackupJobStatusEnum } from './jobs.types.js';

@InputType('SourceInput')
export class SourceInput {
  @Field(() => ID) storageSystemId!: string;
  @Field(() => String) path!: string;
}

@InputType('RequestBackupInput')
export class RequestBackupInput {
  @Field(() => String) datasetKey!: string;
  @Field(() => ID, { nullable: true, description: 'exactly one of uploadId, source and manifest' })
  uploadId?: string | null;
  @Field(() => SourceInput, { nullable: true }) source?: SourceInput | null;
  @Field(() => BackupManifestInput, {
    nullable: true,
    description:
      'the files of a client that chunks locally, every chunk stored first (missingChunks, PUT /chunks/<sha256>)',
  })
  manifest?: BackupManifestInput | null;
  @Field(() => ID, { nullable: true, description: "whose data; defaults to the caller's identity" })
  identityId?: string | null;
  @Field(() => String, { nullable: true }) dataClass?: string | null;
  @Field(() => String, { nullable: true, description: 'the same key returns the same job' })
  idempotencyKey?: string | null;
}

@InputType('PreviewSchemeInput')
export class PreviewSchemeInput {
  @Field(() => ID) identityId!: string;
  @Field(() => BytesScalar) sizeBytes!: number;
  @Field(() => String, { nullable: true }) dataClass?: string | null;
}

@InputType('BackupJobFilter')
export class BackupJobFilter {
  @Field(() => String, { nullable: true }) datasetKey?: string | null;
  @Field(() => ID, { nullable: true }) identityId?: string | null;
  @Field(() => BackupJobStatusEnum, { nullable: true }) status?: BackupJobStatusEnum | null;
}
