//! The comparison of what was sent, what L1 holds and what the soaked node and the reference
//! node hold, input by input.

use super::*;

pub(crate) async fn compare(
    f: &mut Figures,
    sent: &[L1Input],
    chain: &[L1Input],
    soak: &Urls,
    reference: &Urls,
) -> Result<(), String> {
    let soaked = read_node(&soak.graphql).await?;
    let refd = read_node(&reference.graphql).await?;
    tally(f, sent, chain, &soaked, &refd);
    f.soak_root = state_root(soak).await?;
    f.reference_root = state_root(reference).await?;
    f.roots_equal = !f.soak_root.is_empty() && f.soak_root == f.reference_root;
    Ok(())
}

/// Counts what the soaked node holds against L1 (lost, duplicated, stale) and against the
/// reference (mismatched outcomes), and what L1 dropped of what was sent.
pub(crate) fn tally(
    f: &mut Figures,
    sent: &[L1Input],
    chain: &[L1Input],
    soaked: &HashMap<u64, NodeInput>,
    refd: &HashMap<u64, NodeInput>,
) {
    let on_chain: HashMap<H256, &L1Input> = chain.iter().map(|i| (i.transaction, i)).collect();
    let sent_hashes: std::collections::HashSet<H256> = sent.iter().map(|i| i.transaction).collect();
    f.dropped_by_l1 = sent.iter().filter(|i| !on_chain.contains_key(&i.transaction)).count() as u64;
    f.unknown_on_l1 = chain.iter().filter(|i| !sent_hashes.contains(&i.transaction)).count() as u64;

    f.stored = soaked.len() as u64;
    let mut statuses: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for n in refd.values() {
        *statuses.entry(n.outcome.status.as_str()).or_default() += 1;
    }
    let count = |k: fn(&NodeInput) -> usize| refd.values().map(k).sum::<usize>();
    eprintln!(
        "devnode-soak: the reference node: {statuses:?}; {} notices, {} vouchers, {} reports",
        count(|n| n.outcome.notices.len()),
        count(|n| n.outcome.vouchers.len()),
        count(|n| n.outcome.reports.len())
    );
    let as_node =
        |i: &L1Input| (format!("{:#x}", i.sender), format!("0x{}", hex::encode(&i.payload)), i.block.to_string());
    let key = |n: &NodeInput| (n.sender.clone(), n.payload.clone(), n.block.clone());
    let l1_by_index: HashMap<u64, (String, String, String)> = chain.iter().map(|i| (i.index, as_node(i))).collect();
    let l1_by_content: HashMap<(String, String, String), u64> = chain.iter().map(|i| (as_node(i), i.index)).collect();

    let matches_l1 = |inputs: &HashMap<u64, NodeInput>, index: u64| {
        inputs.get(&index).is_some_and(|n| l1_by_index.get(&index) == Some(&key(n)))
    };
    let mut shown = 0;
    for i in chain {
        if !matches_l1(soaked, i.index) {
            f.lost += 1;
            if shown < 10 {
                shown += 1;
                eprintln!("devnode-soak: L1 input {} (block {}) is not at the soaked node", i.index, i.block);
            }
        }
        if !matches_l1(refd, i.index) {
            f.missing_at_reference += 1;
        }
    }
    if f.missing_at_reference > 0 {
        eprintln!("devnode-soak: {} inputs of L1 are not at the reference node either", f.missing_at_reference);
    }
    let mut held: Vec<(&u64, &NodeInput)> = soaked.iter().collect();
    held.sort_unstable_by_key(|(index, _)| **index);
    for (index, n) in held {
        if l1_by_index.get(index) == Some(&key(n)) {
            continue;
        }
        match l1_by_content.get(&key(n)) {
            Some(at) => {
                f.duplicated += 1;
                eprintln!("devnode-soak: the soaked node holds L1 input {at} again at index {index}");
            }
            None => {
                f.stale += 1;
                eprintln!(
                    "devnode-soak: the soaked node holds input {index} (block {}), which L1 does not have",
                    n.block
                );
            }
        }
    }
    let mut shown = 0;
    let mut indices: Vec<u64> = chain.iter().map(|i| i.index).collect();
    indices.sort_unstable();
    for index in indices {
        if !(matches_l1(soaked, index) && matches_l1(refd, index)) {
            continue;
        }
        let (Some(a), Some(b)) = (soaked.get(&index), refd.get(&index)) else { continue };
        if a.outcome != b.outcome {
            let (a, b) = (&a.outcome, &b.outcome);
            f.mismatched += 1;
            if shown < 10 {
                shown += 1;
                eprintln!(
                    "devnode-soak: input {index} differs: soaked {} with {}/{}/{} notices/vouchers/reports, reference {} with {}/{}/{}",
                    a.status,
                    a.notices.len(),
                    a.vouchers.len(),
                    a.reports.len(),
                    b.status,
                    b.notices.len(),
                    b.vouchers.len(),
                    b.reports.len()
                );
            }
        }
    }
}
