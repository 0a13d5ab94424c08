import { Field, Int, ObjectType } from 'type-graphql';
import { BytesScalar, DateTimeScalar } from '../../scalars.js';
import { BackupJobView } from '../jobs/jobs.types.js';
import { IdentityView } from '../viewer/viewer.types.js';

@ObjectType('DatasetVersion')
export class DatasetVersionView {
  @Field(() => Int) number!: number;
  @Field(() => BytesScalar) sizeBytes!: number;
  @Field(() => String) checksum!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => BackupJobView) job!: BackupJobView;

  /** The job that protects this version (the latest, when it was backed up again). */
  jobId!: string;
}

@ObjectType('Dataset')
export class DatasetView {
  @Field(() => String) key!: string;
  @Field(() => IdentityView) identity!: IdentityView;
  @Field(() => [DatasetVersionView]) versions!: DatasetVersionView[];
}
