//! `prune-figures LEDGER`: removes from docs/reliability.md every section that the
//! run whose ledger this is did not write (scripts/test runs it after a full run).

fn main() -> anyhow::Result<()> {
    let ledger = std::env::args_os().nth(1).ok_or_else(|| anyhow::anyhow!("usage: prune-figures LEDGER"))?;
    for name in harness::reliability::prune(std::path::Path::new(&ledger))? {
        println!("removed the figures of `{name}`: no test wrote them in this run");
    }
    Ok(())
}
