import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('BrokenChainLink')
export class BrokenChainLinkView {
  @Field(() => String, { description: 'replica_events or audit_entries' }) chain!: string;
  @Field(() => Int, { description: 'the chain position where the break shows' }) sequence!: number;
  @Field(() => ID, { description: 'the row at that position (empty when rows are missing at the end)' }) rowId!: string;
  @Field(() => String) reason!: string;
}

@ObjectType('AuditChainReport')
export class AuditChainReportView {
  @Field(() => Boolean) ok!: boolean;
  @Field(() => Int) checkedEvents!: number;
  @Field(() => Int) checkedAuditEntries!: number;
  @Field(() => BrokenChainLinkView, { nullable: true }) firstBrokenLink!: BrokenChainLinkView | null;
  @Field(() => [BrokenChainLinkView], {
    description: 'every break in both chains (replica events first, each in chain order), at most 100',
  })
  brokenLinks!: BrokenChainLinkView[];
  @Field(() => Int, { description: 'how many breaks were found, also past the ones listed' })
  brokenLinkCount!: number;
}
