//! Reading a `/metrics` page with a Prometheus text-format parser.

use prometheus_parse::{Scrape, Value};

/// The parsed samples of a Prometheus text page; an error if it does not parse.
pub fn parse(text: &str) -> anyhow::Result<Scrape> {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Ok(Scrape::parse(lines)?)
}

/// The sum of a counter or gauge over the samples whose labels include `labels`.
pub fn total(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// How many observations a histogram holds (its `NAME_count` samples), over
/// the samples whose labels include `labels`.
pub fn histogram_count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    total(scrape, &format!("{name}_count"), labels)
}
