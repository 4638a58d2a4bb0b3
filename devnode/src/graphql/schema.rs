//! Cartesi's v1 reader schema: its scalars, the root `Query`, `Input`, the three output types
//! and their proofs, each field described with Cartesi's own text (the served schema is compared
//! with Cartesi's file by a test).
//!
//! Vouchers, notices and reports are looked up and listed the same way, on the root and on an
//! input; only their names and descriptions differ, and a voucher has a destination, a report no
//! proof. The macros below write those resolvers once for the three kinds.

use std::sync::Arc;

use async_graphql::{
    Context, Enum, InputObject, InputValueError, InputValueResult, Object, Scalar, ScalarType, SimpleObject, Value,
};

use super::limits::{self, page_cost};
use super::pagination::{connection, paged, spend_items, PageArgs, PageInfo, Parts};
use super::proof::{proof_of, Proof};
use crate::store::{InputRange, InputRecord, InputStatus, OutputKind, Store, StoredOutput};

// ----- The root and inputs -----

/// Writes a reader object (the root `Query`, or an `Input`): its own fields, then a lookup by
/// index of each output kind, then a paged listing of each kind it lists, in the order of
/// Cartesi's schema. A root lookup names the input (`voucher(voucherIndex, inputIndex)`), an
/// input's looks in that input (`voucher(index)`); listings cover [`OutputScope::scope`], and
/// one may take a filter (the root's `inputs(where: …)`). Every field with a cost expression is
/// written in the arm that writes `#[Object]`: the expression must see the names async-graphql
/// declares there (macro hygiene).
macro_rules! reader_object {
    (
        $(#[doc = $doc:tt])* root $ty:ident { $($own:tt)* }
        lookups { $($kind:ident: $one:ident($index:ident) $one_doc:tt;)* }
        listings { $($listings:tt)* }
    ) => {
        reader_object!(@object $(#[doc = $doc])* $ty { $($own)* } lookups {$(
            #[doc = $one_doc]
            async fn $one(&self, ctx: &Context<'_>, $index: i32, input_index: i32) -> async_graphql::Result<$kind> {
                find_output(store(ctx)?, OutputKind::$kind, input_index, $index).map($kind)
            }
        )*} listings { $($listings)* });
    };
    (
        $(#[doc = $doc:tt])* input $ty:ident { $($own:tt)* }
        lookups { $($kind:ident: $one:ident $one_doc:tt;)* }
        listings { $($listings:tt)* }
    ) => {
        reader_object!(@object $(#[doc = $doc])* $ty { $($own)* } lookups {$(
            #[doc = $one_doc]
            async fn $one(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<$kind> {
                find_output(store(ctx)?, OutputKind::$kind, int(self.record.index)?, index).map($kind)
            }
        )*} listings { $($listings)* });
    };
    (
        @object $(#[doc = $doc:tt])* $ty:ident { $($own:tt)* } lookups { $($lookups:tt)* }
        listings { $($node:ident, $conn:ident: $many:ident $many_doc:tt $(where $filter:ident)?;)* }
    ) => {
        $(#[doc = $doc])*
        #[Object]
        impl $ty {
            $($own)*
            $($lookups)*
            $(
                #[doc = $many_doc]
                #[graphql(complexity = "page_cost(first, last, child_complexity)")]
                async fn $many(
                    &self,
                    ctx: &Context<'_>,
                    first: Option<i32>,
                    last: Option<i32>,
                    after: Option<String>,
                    before: Option<String>,
                    $(#[graphql(name = "where")] $filter: Option<InputFilter>,)?
                ) -> async_graphql::Result<$conn> {
                    let range = None $(.or($filter))?.map(InputFilter::range).unwrap_or_default();
                    let args = PageArgs { first, last, after, before };
                    Ok($conn::new($node::page(ctx, self.scope(), range, args)?))
                }
            )*
        }
    };
}

/// Whose outputs an object's listings cover: all of them, or one input's.
trait OutputScope {
    fn scope(&self) -> Option<u64>;
}

/// The root of the reader schema; it reads everything from the store in the context.
#[derive(Debug)]
pub struct Query;

impl OutputScope for Query {
    fn scope(&self) -> Option<u64> {
        None
    }
}

reader_object! {
    /// Top level queries
    root Query {
        /// Get input based on its identifier
        async fn input(&self, ctx: &Context<'_>, index: i32) -> async_graphql::Result<Input> {
            let index = u64::try_from(index).map_err(|_| not_found("input"))?;
            find_input(store(ctx)?, index)
        }
    }
    lookups {
        Voucher: voucher(voucher_index) "Get voucher based on its index";
        Notice: notice(notice_index) "Get notice based on its index";
        Report: report(report_index) "Get report based on its index";
    }
    listings {
        Input, InputConnection: inputs "Get inputs with support for pagination" where filter;
        Voucher, VoucherConnection: vouchers "Get vouchers with support for pagination";
        Notice, NoticeConnection: notices "Get notices with support for pagination";
        Report, ReportConnection: reports "Get reports with support for pagination";
    }
}

/// An input with its status, as stored.
#[derive(Debug)]
pub(super) struct Input {
    record: InputRecord,
    status: InputStatus,
}

impl OutputScope for Input {
    fn scope(&self) -> Option<u64> {
        Some(self.record.index)
    }
}

reader_object! {
    /// Request submitted to the application to advance its state
    input Input {
        /// Input index starting from genesis
        async fn index(&self) -> async_graphql::Result<i32> {
            int(self.record.index)
        }

        /// Status of the input
        async fn status(&self) -> CompletionStatus {
            self.status.into()
        }

        /// Address responsible for submitting the input
        async fn msg_sender(&self) -> String {
            self.record.msg_sender.to_string()
        }

        /// Timestamp associated with the input submission, as defined by the base layer's block in which it was recorded
        async fn timestamp(&self) -> BigInt {
            BigInt(self.record.timestamp)
        }

        /// Number of the base layer block in which the input was recorded
        async fn block_number(&self) -> BigInt {
            BigInt(self.record.block_number)
        }

        /// Input payload in Ethereum hex binary format, starting with '0x'
        async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
            hex_within_budget(ctx, &self.record.payload)
        }
    }
    lookups {
        Voucher: voucher "Get voucher from this particular input given the voucher's index";
        Notice: notice "Get notice from this particular input given the notice's index";
        Report: report "Get report from this particular input given the report's index";
    }
    listings {
        Voucher, VoucherConnection: vouchers "Get vouchers from this particular input with support for pagination";
        Notice, NoticeConnection: notices "Get notices from this particular input with support for pagination";
        Report, ReportConnection: reports "Get reports from this particular input with support for pagination";
    }
}

// ----- Outputs -----

/// Writes the GraphQL type of one output kind: a stored output with its `index`, the `input`
/// that produced it, its `payload`, and the fields only some kinds have (a voucher's
/// `destination`, a voucher's or notice's `proof`), in the order of Cartesi's schema.
macro_rules! output_object {
    (
        $(#[doc = $doc:tt])* $kind:ident: $type_doc:tt,
        index $index_doc:tt, input $input_doc:tt, $(destination $destination_doc:tt,)? payload $payload_doc:tt
        $(, proof $proof_doc:tt)?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug)]
        pub(super) struct $kind(StoredOutput);

        #[doc = $type_doc]
        #[Object]
        impl $kind {
            #[doc = $index_doc]
            async fn index(&self) -> async_graphql::Result<i32> {
                int(self.0.index)
            }

            #[doc = $input_doc]
            async fn input(&self, ctx: &Context<'_>) -> async_graphql::Result<Input> {
                find_input(store(ctx)?, self.0.input_index)
            }

            $(
                #[doc = $destination_doc]
                async fn destination(&self) -> async_graphql::Result<String> {
                    match &self.0.output {
                        rollup::wire::Output::Voucher(v) => Ok(v.destination.to_string()),
                        _ => Err(async_graphql::Error::new("internal error: a voucher listing returned another output")),
                    }
                }
            )?

            #[doc = $payload_doc]
            async fn payload(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
                output_payload(ctx, &self.0)
            }

            $(
                #[doc = $proof_doc]
                async fn proof(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Proof>> {
                    proof_of(store(ctx)?, OutputKind::$kind, &self.0)
                }
            )?
        }
    };
}

output_object! {
    /// A stored voucher.
    Voucher: "Representation of a transaction that can be carried out on the base layer blockchain, such as a transfer of assets",
    index "Voucher index within the context of the input that produced it",
    input "Input whose processing produced the voucher",
    destination "Transaction destination address in Ethereum hex binary format (20 bytes), starting with '0x'",
    payload "Transaction payload in Ethereum hex binary format, starting with '0x'",
    proof "Proof object that allows this voucher to be validated and executed on the base layer blockchain"
}

output_object! {
    /// A stored notice.
    Notice: "Informational statement that can be validated in the base layer blockchain",
    index "Notice index within the context of the input that produced it",
    input "Input whose processing produced the notice",
    payload "Notice data as a payload in Ethereum hex binary format, starting with '0x'",
    proof "Proof object that allows this notice to be validated by the base layer blockchain"
}

output_object! {
    /// A stored report.
    Report: "Application log or diagnostic information",
    index "Report index within the context of the input that produced it",
    input "Input whose processing produced the report",
    payload "Report data as a payload in Ethereum hex binary format, starting with '0x'"
}

connection!(InputConnection, InputEdge, Input);
connection!(VoucherConnection, VoucherEdge, Voucher);
connection!(NoticeConnection, NoticeEdge, Notice);
connection!(ReportConnection, ReportEdge, Report);

/// What a listing pages through: inputs within a range, or the outputs of one kind (of one
/// input, or of all).
trait Listed: Sized {
    /// One page; `scope` is the input whose outputs are listed (`None`: all), `range` bounds inputs.
    fn page(
        ctx: &Context<'_>,
        scope: Option<u64>,
        range: InputRange,
        args: PageArgs,
    ) -> async_graphql::Result<Parts<Self>>;
}

impl Listed for Input {
    fn page(
        ctx: &Context<'_>,
        _: Option<u64>,
        range: InputRange,
        args: PageArgs,
    ) -> async_graphql::Result<Parts<Input>> {
        let store = store(ctx)?;
        let total = store.count_inputs(range).map_err(internal)?;
        let page = args.page(total)?;
        spend_items(ctx, page)?;
        let items = if page.limit == 0 {
            Vec::new()
        } else {
            store.inputs(range, page.offset, page.limit).map_err(internal)?
        };
        Ok(paged(total, page, items)?.map(|(record, status)| Input { record, status }))
    }
}

/// The listing of one output kind, for each of the three.
macro_rules! listed_output {
    ($($kind:ident)*) => {$(
        impl Listed for $kind {
            fn page(ctx: &Context<'_>, scope: Option<u64>, _: InputRange, args: PageArgs) -> async_graphql::Result<Parts<$kind>> {
                Ok(output_page(ctx, OutputKind::$kind, scope, args)?.map($kind))
            }
        }
    )*};
}

listed_output!(Voucher Notice Report);

/// One page of outputs of `kind`, of one input or of all.
fn output_page(
    ctx: &Context<'_>,
    kind: OutputKind,
    input: Option<u64>,
    args: PageArgs,
) -> async_graphql::Result<Parts<StoredOutput>> {
    let store = store(ctx)?;
    let total = store.count_outputs(kind, input).map_err(internal)?;
    let page = args.page(total)?;
    spend_items(ctx, page)?;
    let items = if page.limit == 0 {
        Vec::new()
    } else {
        store.outputs(kind, input, page.offset, page.limit).map_err(internal)?
    };
    paged(total, page, items)
}

// ----- Errors and conversions -----

/// A missing item, with the message of Cartesi's reader.
fn not_found(what: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!("{what} not found"))
}

/// Database failures reach the client as the query's error; the node's log has them too.
pub(super) fn internal(e: crate::store::StoreError) -> async_graphql::Error {
    tracing::error!("reader API: {e}");
    async_graphql::Error::new(format!("internal error: {e}"))
}

pub(super) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Store>> {
    ctx.data::<Arc<Store>>()
}

/// GraphQL `Int` is 32-bit; an index or count beyond it cannot be shown and is an error rather
/// than a wrapped number.
pub(super) fn int(value: u64) -> async_graphql::Result<i32> {
    i32::try_from(value).map_err(|_| async_graphql::Error::new(format!("value {value} exceeds GraphQL Int")))
}

// ----- Scalars and enums -----

/// A 64-bit number shown as a decimal string, as Cartesi's `BigInt` scalar is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BigInt(pub(super) u64);

#[Scalar(name = "BigInt")]
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                s.parse().map(BigInt).map_err(|_| InputValueError::custom(format!("invalid BigInt {s:?}")))
            }
            Value::Number(n) => n.as_u64().map(BigInt).ok_or_else(|| InputValueError::expected_type(value.clone())),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

// The last four values belong to Cartesi Machine failures; the dev node runs the backend as a host
// process and never produces them, but they are part of the schema clients see.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CompletionStatus {
    Unprocessed,
    Accepted,
    Rejected,
    Exception,
    MachineHalted,
    CycleLimitExceeded,
    TimeLimitExceeded,
    PayloadLengthLimitExceeded,
}

impl From<InputStatus> for CompletionStatus {
    fn from(s: InputStatus) -> Self {
        match s {
            InputStatus::Unprocessed => CompletionStatus::Unprocessed,
            InputStatus::Accepted => CompletionStatus::Accepted,
            InputStatus::Rejected => CompletionStatus::Rejected,
            InputStatus::Exception => CompletionStatus::Exception,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

// ----- Lookups -----

/// One output by its index within its input, or "<kind> not found".
fn find_output(store: &Store, kind: OutputKind, input_index: i32, index: i32) -> async_graphql::Result<StoredOutput> {
    let (Ok(input_index), Ok(index)) = (u64::try_from(input_index), u64::try_from(index)) else {
        return Err(not_found(kind.name()));
    };
    store.output(kind, input_index, index).map_err(internal)?.ok_or_else(|| not_found(kind.name()))
}

fn find_input(store: &Store, index: u64) -> async_graphql::Result<Input> {
    let (record, status) = store.input(index).map_err(internal)?.ok_or_else(|| not_found("input"))?;
    Ok(Input { record, status })
}

/// Filter object to restrict results depending on input properties
#[derive(InputObject, Clone, Copy, Debug)]
pub(super) struct InputFilter {
    /// Filter only inputs with index lower than a given value
    index_lower_than: Option<i32>,
    /// Filter only inputs with index greater than a given value
    index_greater_than: Option<i32>,
}

impl InputFilter {
    /// Both bounds are strict. A negative lower-than bound admits nothing; a negative
    /// greater-than bound excludes nothing.
    fn range(self) -> InputRange {
        InputRange {
            index_lower_than: self.index_lower_than.map(|v| u64::try_from(v).unwrap_or(0)),
            index_greater_than: self.index_greater_than.and_then(|v| u64::try_from(v).ok()),
        }
    }
}

/// The payload of any stored output; destinations exist only on vouchers.
fn output_payload(ctx: &Context<'_>, output: &StoredOutput) -> async_graphql::Result<String> {
    match &output.output {
        rollup::wire::Output::Notice(p) | rollup::wire::Output::Report(p) => hex_within_budget(ctx, p),
        rollup::wire::Output::Voucher(v) => hex_within_budget(ctx, &v.payload.0),
        // A v2 output: the v1 reader never lists one (it asks for vouchers, notices, reports).
        rollup::wire::Output::DelegateCallVoucher(v) => hex_within_budget(ctx, &v.payload.0),
    }
}

/// A payload in hex, once its size is taken from the request's answer budget: payloads are most
/// of an answer's bytes, and this refuses them before they are built rather than once the whole
/// answer is. A schema run outside the HTTP handler has no budget.
pub(super) fn hex_within_budget(ctx: &Context<'_>, bytes: &[u8]) -> async_graphql::Result<String> {
    if let Some(budget) = ctx.data_opt::<limits::AnswerBudget>() {
        budget.spend_bytes(2 + 2 * bytes.len())?;
    }
    Ok(hex(bytes))
}
