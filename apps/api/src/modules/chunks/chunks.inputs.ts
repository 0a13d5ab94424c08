import { Field, InputType, Int, registerEnumType } from 'type-graphql';
import { BytesScalar, DateTimeScalar } from '../../scalars.js';

export enum ManifestKindEnum {
  OBJECT = 'object',
  TREE = 'tree',
}
registerEnumType(ManifestKindEnum, {
  name: 'ManifestKind',
  description: 'OBJECT: one stream (exactly one entry); TREE: a file tree',
});

@InputType('ChunkRefInput', { description: 'one chunk of an entry, in stream order' })
export class ChunkRefInput {
  @Field(() => String, { description: 'sha256 of the chunk’s bytes, 64 lowercase hex digits' }) hash!: string;
  @Field(() => Int, { description: 'bytes, 1 to 4 MiB' }) length!: number;
}

@InputType('ManifestEntryInput', { description: 'one regular file of a manifest (docs/data-layout.md)' })
export class ManifestEntryInput {
  @Field(() => String, { description: 'relative, "/"-separated; no "", "." or ".." segment, no control character' })
  path!: string;
  @Field(() => String, { description: 'permission bits as four octal digits, such as "0644"' }) mode!: string;
  @Field(() => DateTimeScalar) mtime!: Date;
  @Field(() => BytesScalar, { description: 'equals the sum of its chunks’ lengths' }) size!: number;
  @Field(() => String, { description: 'sha256 of the entry’s bytes' }) sha256!: string;
  @Field(() => [ChunkRefInput]) chunks!: ChunkRefInput[];
}

@InputType('BackupManifestInput', {
  description: 'what a client that chunks locally backs up: every chunk must be stored first (PUT /chunks/<sha256>)',
})
export class BackupManifestInput {
  @Field(() => ManifestKindEnum) kind!: ManifestKindEnum;
  @Field(() => [ManifestEntryInput]) entries!: ManifestEntryInput[];
}
