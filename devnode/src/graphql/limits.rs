//! What one request to the reader API may cost, checked before anything runs where possible.
//!
//! GraphQL lets a small query ask for a great deal: 400 aliases of a 1000-item list in 22 KB of
//! text would build and send hundreds of megabytes. Each check below refuses such a query with a
//! GraphQL error that says which limit it hit and how to stay under it:
//!
//! 1. The document's shape: its depth, its selections counted with fragments expanded, its
//!    aliases, and fragments that spread themselves, all before async-graphql walks the document
//!    (its own checks expand fragments without a budget).
//! 2. The cost, from async-graphql's validation: a list with `first` or `last` costs the items it
//!    asks for times what each item selects, so a query asking for too much is refused before
//!    it runs.
//! 3. What the answer holds, taken from budgets as the query runs: a list without `first` or
//!    `last` asks for "all" (up to a page of 1000), which is usually a handful on a dev chain
//!    (`inputs { … notices { … } }` is a common way to read everything); it counts as one item
//!    in the cost, and its real size is taken from a budget of list items before its rows are
//!    read. Payloads, as long as their senders made them, take their size from a budget of
//!    bytes before they are turned into hex.
//! 4. The serialized answer's size, the last line of defence for everything else.
//!
//! The requests of one batch share every budget.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerError, ValidationResult};

use super::pagination::MAX_PAGE;

/// Deepest selection accepted. The console's deepest query (a notice's proof) is four fields
/// deep; introspection with the `ofType` nesting GraphiQL sends is about fifteen. Inputs and
/// outputs refer to each other, so without a limit a query could nest without end.
pub(crate) const MAX_DEPTH: usize = 32;

/// The largest cost of one request (or of all the requests of a batch). A full page of 1000
/// inputs with every field, cursors and page info costs about 15,000; the console's largest
/// query, a page of 1000 outputs, about 10,000. 50,000 lets a query hold a few full pages at
/// once while 20 aliases of a 1000-input list are already refused.
pub(crate) const MAX_COMPLEXITY: usize = 50_000;

/// List items read by one request (or by all the requests of a batch), whatever the lists:
/// twenty full pages. Listing every input of a dev chain with its notices and reports is a few
/// thousand.
pub(crate) const MAX_ITEMS: usize = 20_000;

/// Aliases per request. An alias is how one query asks for the same list many times over; the
/// console sends none, and a page needing more than a few dozen is better served by paging.
pub const MAX_ALIASES: usize = 64;

/// Selections (fields, fragment spreads and inline fragments) per request, counted with every
/// fragment expanded where it is spread. GraphiQL's introspection query is about 200.
pub(crate) const MAX_SELECTIONS: usize = 2_000;

/// Directives on one field: `@include` and `@skip` are the only ones the schema knows.
pub(crate) const MAX_DIRECTIVES: usize = 4;

/// Requests in one batch (a JSON array); they share every budget of one request.
pub(crate) const MAX_BATCH: usize = 16;

/// Largest answer body, in bytes. A full page of 1000 items with payloads of a few KiB each is a
/// few MB; 16 MiB leaves room for real pages and bounds the memory one answer takes.
pub(crate) const MAX_ANSWER: usize = 16 << 20;

/// A cost ceiling for one list, far above [`MAX_COMPLEXITY`]. async-graphql adds costs in a
/// `usize` without checking for overflow; with nested lists multiplying by 1000 per level, a
/// deep query would overflow. With each list capped here and at most [`MAX_SELECTIONS`] fields
/// per request (checked first), no sum can overflow.
const COST_CEILING: usize = 1 << 40;

/// The complexity of a list field: one for the field, plus the items it asks for times the cost
/// of each item's selection. A list without `first` or `last` counts one item here; its real
/// size is taken from the [`AnswerBudget`] when it runs. Negative sizes are refused when the field
/// runs; here they count as empty.
pub(super) fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let items = match (first, last) {
        (None, None) => 1,
        (first, last) => {
            let asked = first.unwrap_or(0).max(last.unwrap_or(0));
            u64::try_from(asked).unwrap_or(0).min(MAX_PAGE)
        }
    };
    let items = usize::try_from(items).unwrap_or(usize::MAX);
    items.saturating_mul(child_complexity).saturating_add(1).min(COST_CEILING)
}

/// The budgets one HTTP request's queries share.
#[derive(Debug)]
pub(super) struct Budgets {
    pub(super) documents: DocumentBudget,
    pub(super) cost: CostBudget,
    pub(super) answer: AnswerBudget,
}

impl Budgets {
    pub(super) fn new() -> Budgets {
        Budgets { documents: DocumentBudget::default(), cost: CostBudget::new(), answer: AnswerBudget::new() }
    }
}

/// What the answers to one HTTP request may still hold: list items, taken by each list before
/// its rows are read, and payload bytes, taken by each payload before it is turned into hex.
/// Fields run concurrently; whichever finds a budget spent fails, and since every list and
/// payload field is non-null, the whole answer's data becomes null.
#[derive(Clone, Debug)]
pub(super) struct AnswerBudget {
    items: Arc<AtomicUsize>,
    bytes: Arc<AtomicUsize>,
}

impl AnswerBudget {
    fn new() -> AnswerBudget {
        AnswerBudget { items: Arc::new(AtomicUsize::new(MAX_ITEMS)), bytes: Arc::new(AtomicUsize::new(MAX_ANSWER)) }
    }

    pub(super) fn spend_items(&self, items: u64) -> async_graphql::Result<()> {
        let items = usize::try_from(items).unwrap_or(usize::MAX);
        if take(&self.items, items) {
            return Ok(());
        }
        Err(async_graphql::Error::new(format!(
            "the answer would hold more than {MAX_ITEMS} list items; ask for smaller pages with first or last \
             and follow pageInfo.endCursor"
        )))
    }

    pub(super) fn spend_bytes(&self, bytes: usize) -> async_graphql::Result<()> {
        if take(&self.bytes, bytes) {
            Ok(())
        } else {
            Err(async_graphql::Error::new(too_large()))
        }
    }
}

/// Takes `amount` from `budget` if that much is left, and says whether it was.
fn take(budget: &AtomicUsize, amount: usize) -> bool {
    budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(amount)).is_ok()
}

/// The refusal of an answer above [`MAX_ANSWER`], whether its payloads alone pass it or the
/// whole serialized answer does.
pub(super) fn too_large() -> String {
    format!(
        "the answer is larger than {} MiB, the reader API's limit; ask for fewer items per page (first or \
         last) or fewer fields",
        MAX_ANSWER >> 20
    )
}

/// Why a document is refused before it is validated.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    Depth,
    Selections,
    Aliases,
    FragmentCycle(String),
}

impl Refusal {
    pub(super) fn message(&self) -> String {
        match self {
            Refusal::Depth => format!("the query nests fields more than {MAX_DEPTH} deep"),
            Refusal::Selections => format!(
                "the query selects more than {MAX_SELECTIONS} fields (counting each fragment where it is spread); \
                 split it into smaller queries"
            ),
            Refusal::Aliases => format!(
                "the query uses more than {MAX_ALIASES} aliases; ask for each list once and page through it \
                 with first/after"
            ),
            Refusal::FragmentCycle(name) => format!("fragment {name} spreads itself"),
        }
    }
}

/// What a selection set being walked belongs to.
#[derive(Clone, Copy, Debug)]
enum Owner {
    /// An operation or an inline fragment.
    Plain,
    /// A field: its selections are one level deeper.
    Field,
    /// A fragment expanded where it is spread.
    Fragment,
}

/// The selections and aliases of the requests of one HTTP request, counted with fragments
/// expanded; a document is refused as soon as it passes a limit, so the walk itself stays
/// bounded. The requests of a batch share one budget.
#[derive(Debug, Default)]
pub(super) struct DocumentBudget {
    selections: usize,
    aliases: usize,
}

impl DocumentBudget {
    pub(super) fn spend(&mut self, doc: &ExecutableDocument) -> Result<(), Refusal> {
        // An explicit stack rather than recursion: a chain of fragments can be as long as the
        // selection budget, deeper than a worker thread's stack should go.
        let mut stack: Vec<(std::slice::Iter<'_, Positioned<Selection>>, Owner)> = Vec::new();
        let mut expanding: Vec<&str> = Vec::new();
        let mut depth = 0;
        for (_, operation) in doc.operations.iter() {
            stack.push((items(&operation.node.selection_set), Owner::Plain));
        }
        loop {
            let (next, owner) = match stack.last_mut() {
                Some((items, owner)) => (items.next(), *owner),
                None => return Ok(()),
            };
            let Some(selection) = next else {
                match owner {
                    Owner::Plain => {}
                    Owner::Field => depth -= 1,
                    Owner::Fragment => {
                        expanding.pop();
                    }
                }
                stack.pop();
                continue;
            };
            self.selections += 1;
            if self.selections > MAX_SELECTIONS {
                return Err(Refusal::Selections);
            }
            match &selection.node {
                Selection::Field(field) => {
                    if depth + 1 > MAX_DEPTH {
                        return Err(Refusal::Depth);
                    }
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                        if self.aliases > MAX_ALIASES {
                            return Err(Refusal::Aliases);
                        }
                    }
                    depth += 1;
                    stack.push((items(&field.node.selection_set), Owner::Field));
                }
                Selection::InlineFragment(inline) => stack.push((items(&inline.node.selection_set), Owner::Plain)),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if expanding.contains(&name) {
                        return Err(Refusal::FragmentCycle(name.to_string()));
                    }
                    // An unknown fragment is left to validation, which names it.
                    if let Some(definition) = doc.fragments.get(&spread.node.fragment_name.node) {
                        expanding.push(name);
                        stack.push((items(&definition.node.selection_set), Owner::Fragment));
                    }
                }
            }
        }
    }
}

fn items(set: &Positioned<SelectionSet>) -> std::slice::Iter<'_, Positioned<Selection>> {
    set.node.items.iter()
}

/// The cost budget left to the requests of one HTTP request, shared by a batch.
#[derive(Clone, Debug)]
pub(super) struct CostBudget(Arc<AtomicUsize>);

impl CostBudget {
    pub(super) fn new() -> CostBudget {
        CostBudget(Arc::new(AtomicUsize::new(MAX_COMPLEXITY)))
    }

    /// Takes `cost` from the budget, or says how much was left.
    fn spend(&self, cost: usize) -> Result<(), usize> {
        if take(&self.0, cost) {
            Ok(())
        } else {
            Err(self.0.load(Ordering::SeqCst))
        }
    }
}

/// Checks each request's cost after async-graphql's validation computed them, with
/// messages that say what the limit is and how to stay under it.
#[derive(Debug)]
pub(super) struct CostCheck;

impl ExtensionFactory for CostCheck {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostCheck)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostCheck {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        // A request executed outside the HTTP handler (a test, a tool) gets a budget of its own.
        let budget = ctx.data_opt::<CostBudget>().cloned().unwrap_or_else(CostBudget::new);
        if let Err(left) = budget.spend(result.complexity) {
            let message = if left == MAX_COMPLEXITY {
                format!("the query costs {}, above the limit of {MAX_COMPLEXITY}", result.complexity)
            } else {
                format!(
                    "the query costs {}, above the {left} left of the batch's limit of {MAX_COMPLEXITY}",
                    result.complexity
                )
            };
            return Err(vec![ServerError::new(
                format!(
                    "{message}: a list costs the items it asks for with first or last times the fields \
                     each item selects; ask for smaller pages and follow pageInfo.endCursor, or for fewer \
                     fields"
                ),
                None,
            )]);
        }
        Ok(result)
    }
}

/// A buffer that refuses to grow past [`MAX_ANSWER`] (or a smaller cap), so an answer too large
/// to send is never built in full.
#[derive(Debug)]
pub(super) struct CappedBody {
    bytes: Vec<u8>,
    cap: usize,
    overflowed: bool,
}

impl CappedBody {
    pub(super) fn new(cap: usize) -> CappedBody {
        CappedBody { bytes: Vec::new(), cap, overflowed: false }
    }

    /// The bytes written, or `None` when they would have passed the cap.
    pub(super) fn finish(self) -> Option<Vec<u8>> {
        (!self.overflowed).then_some(self.bytes)
    }

    pub(super) fn overflowed(&self) -> bool {
        self.overflowed
    }
}

impl io::Write for CappedBody {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.cap {
            self.overflowed = true;
            return Err(io::Error::other(format!("the answer is larger than {} bytes", self.cap)));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn a_list_costs_its_page_times_its_items() {
        assert_eq!(page_cost(None, None, 3), 4);
        assert_eq!(page_cost(Some(2), None, 3), 7);
        assert_eq!(page_cost(None, Some(5000), 3), 3001);
        assert_eq!(page_cost(Some(0), None, 3), 1);
        assert_eq!(page_cost(Some(-4), None, 3), 1);
        assert_eq!(page_cost(Some(1000), None, usize::MAX), COST_CEILING);
        // The ceiling keeps the sum of every field of a request far from overflowing.
        assert!(COST_CEILING.checked_mul(MAX_SELECTIONS * MAX_BATCH).is_some());
    }

    fn spend(query: &str) -> Result<DocumentBudget, Refusal> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| Refusal::FragmentCycle(e.to_string()))?;
        let mut budget = DocumentBudget::default();
        budget.spend(&doc).map(|()| budget)
    }

    #[test]
    fn items_and_bytes_are_taken_until_none_are_left() {
        let budget = AnswerBudget::new();
        assert!(budget.spend_items(MAX_ITEMS as u64 - 1).is_ok());
        assert!(budget.clone().spend_items(1).is_ok());
        assert!(budget.spend_items(1).is_err());
        assert!(budget.spend_items(0).is_ok());
        assert!(budget.spend_bytes(MAX_ANSWER).is_ok());
        assert_eq!(budget.spend_bytes(1).map_err(|e| e.message), Err(too_large()));
    }

    #[test]
    fn documents_are_counted_with_fragments_expanded() {
        let budget =
            spend("query { a: inputs { totalCount } ...F ...F } fragment F on Query { b: inputs { totalCount } }");
        let budget = budget.map_err(|e| e.message()).unwrap_or_else(|e| panic!("{e}"));
        // a, totalCount, two spreads, and twice b with its totalCount.
        assert_eq!((budget.selections, budget.aliases), (8, 3));
    }

    #[test]
    fn fragment_bombs_and_cycles_are_refused_without_expanding_them() {
        // Each fragment spreads the previous one twice: 2^40 fields once expanded.
        let mut query = String::from("query { ...F40 } fragment F0 on Query { __typename }");
        for i in 1..=40 {
            query.push_str(&format!(" fragment F{i} on Query {{ ...F{p} ...F{p} }}", p = i - 1));
        }
        assert_eq!(spend(&query).err(), Some(Refusal::Selections));
        let cycle = "query { ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }";
        assert_eq!(spend(cycle).err(), Some(Refusal::FragmentCycle("A".to_string())));
        let aliases: String = (0..=MAX_ALIASES).map(|i| format!(" a{i}: __typename")).collect();
        assert_eq!(spend(&format!("query {{{aliases} }}")).err(), Some(Refusal::Aliases));
    }

    #[test]
    fn depth_counts_fields_through_fragments() {
        let nested = |levels: usize| format!("query {{ {}x{} }}", "a { ".repeat(levels - 1), " }".repeat(levels - 1));
        assert!(spend(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(spend(&nested(MAX_DEPTH + 1)).err(), Some(Refusal::Depth));
        // Fragments and inline fragments add no level of their own; the fields inside them do.
        let half = MAX_DEPTH / 2;
        let query = format!(
            "query {{ {open}...F{close} }} fragment F on T {{ ... on T {{ {open}x{close} }} }}",
            open = "a { ".repeat(half),
            close = " }".repeat(half)
        );
        assert_eq!(spend(&query).err(), Some(Refusal::Depth));
        let query = query.replacen("a { ", "", 1).replacen(" }", "", 1);
        assert!(spend(&query).is_ok(), "{query}");
    }

    #[test]
    fn the_capped_body_refuses_to_grow_past_its_cap() {
        let mut body = CappedBody::new(8);
        assert!(body.write_all(b"12345").is_ok());
        assert!(body.write_all(b"6789").is_err());
        assert!(body.overflowed());
        assert_eq!(body.finish(), None);
        let mut body = CappedBody::new(8);
        assert!(body.write_all(b"12345678").is_ok());
        assert_eq!(body.finish(), Some(b"12345678".to_vec()));
    }
}
