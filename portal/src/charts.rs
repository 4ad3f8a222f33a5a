//! Charts drawn on the server as SVG with plotters' SVG backend, for pages
//! that must work without JavaScript: bars (one or two series, upright or
//! lying) and a line. Each chart is an accessible image — `role="img"`, a
//! `<title>` and a `<desc>` (the caller's localised words) — that scales to
//! its container through its `viewBox`; the page puts the same numbers in a
//! table beside it.
//!
//! Text inside the drawing (labels a firm chose, such as phase titles) is
//! escaped by plotters itself (`<`, `>`, `&`, quotes); the title and
//! description are escaped here. No font is loaded: plotters estimates text
//! sizes and the browser draws the text.

use plotters::prelude::*;

/// Dark ink for axes and text (15.3:1 on white).
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Light grid lines (decoration only).
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// The first series: dark blue (8.6:1 on white).
pub const BLUE: RGBColor = RGBColor(0x1f, 0x4e, 0x79);
/// The second series: dark orange (5.1:1 on white, and told apart from blue without colour vision).
pub const ORANGE: RGBColor = RGBColor(0xa8, 0x4b, 0x00);

/// Drawing size: narrow enough that text stays readable when a phone (390 px) scales it down.
const WIDTH: u32 = 440;
const HEIGHT: u32 = 300;
/// Height of each row of lying bars.
const ROW: u32 = 36;
/// Label size in plotters' units (the SVG gets `size / 1.24` px, before scaling).
const LABEL: u32 = 20;
/// The longest label drawn whole; longer ones end with "…" (the table has them whole).
const LABEL_CHARS: usize = 20;

/// What names a chart for assistive technology: an id unique on the page, a title and a description.
#[derive(Debug, Clone)]
pub struct Caption<'a> {
    /// The `id` prefix of the title and description elements.
    pub id: &'a str,
    /// A short title.
    pub title: &'a str,
    /// What the chart shows, in a sentence.
    pub desc: &'a str,
}

/// One series of a bar chart: its name (shown in a legend when there are two) and colour.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its colour.
    pub colour: RGBColor,
    /// One value per label.
    pub values: &'a [i64],
}

fn failed(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("chart: {e}")
}

/// `text` escaped for XML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `label` cut to [`LABEL_CHARS`] characters.
fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        format!("{}…", label.chars().take(LABEL_CHARS - 1).collect::<String>())
    }
}

/// Plotters' document made accessible: its fixed width and height dropped (the
/// `viewBox` scales it), `role="img"`, and a title and description that name it.
fn accessible(svg: &str, caption: &Caption<'_>, height: u32) -> String {
    let body = svg.find('>').map_or("", |end| &svg[end + 1..]);
    let id = escape(caption.id);
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" preserveAspectRatio=\"xMidYMid meet\">\n\
         <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>{body}",
        escape(caption.title),
        escape(caption.desc),
    )
}

/// The top of a count axis: a little above the largest value, at least 1.
fn top_of(values: impl Iterator<Item = i64>) -> i64 {
    let max = values.max().unwrap_or(0).max(1);
    max + (max / 10).max(1)
}

/// Labels along a count axis `0..top`: at most six, and no more than there are whole numbers
/// (plotters' integer axis overflows when asked for more).
fn count_labels(top: i64) -> usize {
    usize::try_from(top).unwrap_or(0).clamp(1, 6)
}

fn label_style() -> TextStyle<'static> {
    ("sans-serif", LABEL).into_font().color(&INK)
}

/// Upright bars, one group per label, one bar per series (a legend names them when there are two or more).
pub fn bars(caption: &Caption<'_>, labels: &[String], series: &[Series<'_>], y_desc: &str) -> anyhow::Result<String> {
    let n = i32::try_from(labels.len()).map_err(failed)?.max(1);
    let top = top_of(series.iter().flat_map(|s| s.values.iter().copied()));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0i64..top)
            .map_err(failed)?;
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| labels.get(i)).map_or_else(String::new, |l| short(l))
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().max(1))
            .x_label_formatter(&name)
            .y_labels(count_labels(top))
            .y_label_formatter(&|v| v.to_string())
            .y_desc(y_desc)
            .label_style(label_style())
            .axis_desc_style(label_style())
            .axis_style(INK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        let groups = i32::try_from(series.len()).map_err(failed)?.max(1);
        // Each label's segment is 100 px wide or so: split it among the series, with a gap each side.
        let segment = (WIDTH - 64 - 24) / u32::try_from(n).map_err(failed)?.max(1);
        let width = segment.saturating_sub(12) / u32::try_from(groups).map_err(failed)?;
        for (k, s) in series.iter().enumerate() {
            let k = u32::try_from(k).map_err(failed)?;
            let left = 6 + k * width;
            let right = segment.saturating_sub(left + width);
            let drawn = chart
                .draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                    let i = i32::try_from(i).ok()?;
                    let mut bar = Rectangle::new(
                        [(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), *v)],
                        s.colour.filled(),
                    );
                    bar.set_margin(0, 0, left, right);
                    Some(bar)
                }))
                .map_err(failed)?;
            if series.len() > 1 {
                let colour = s.colour;
                drawn
                    .label(s.name)
                    .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 14, y + 7)], colour.filled()));
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font(label_style())
                .background_style(WHITE.mix(0.9))
                .border_style(INK)
                .draw()
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(accessible(&svg, caption, HEIGHT))
}

/// Lying bars, one per label, the first at the top (for long labels such as phase titles).
pub fn lying_bars(caption: &Caption<'_>, labels: &[String], values: &[i64], x_desc: &str) -> anyhow::Result<String> {
    let n = i32::try_from(labels.len()).map_err(failed)?.max(1);
    let top = top_of(values.iter().copied());
    let widest = labels.iter().map(|l| short(l).chars().count()).max().unwrap_or(1);
    let label_area = u32::try_from(widest * 10 + 16).map_err(failed)?.min(WIDTH / 2);
    // Rows are counted from the bottom: the first label goes to the top row.
    let row_of = |i: usize| n - 1 - i32::try_from(i).unwrap_or(0);
    let height = (u32::try_from(n).map_err(failed)? * ROW + 72).max(HEIGHT);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0i64..top, (0..n - 1).into_segmented())
            .map_err(failed)?;
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(row) => {
                usize::try_from(n - 1 - row).ok().and_then(|i| labels.get(i)).map_or_else(String::new, |l| short(l))
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(labels.len().max(1))
            .y_label_formatter(&name)
            .x_labels(count_labels(top))
            .x_label_formatter(&|v| v.to_string())
            .x_desc(x_desc)
            .label_style(label_style())
            .axis_desc_style(label_style())
            .axis_style(INK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let row = row_of(i);
                let mut bar =
                    Rectangle::new([(0, SegmentValue::Exact(row)), (*v, SegmentValue::Exact(row + 1))], BLUE.filled());
                bar.set_margin(4, 4, 0, 0);
                bar
            }))
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(accessible(&svg, caption, height))
}

/// A line through one value per label on a `low..=high` scale, each point marked.
pub fn line(
    caption: &Caption<'_>,
    labels: &[String],
    values: &[f64],
    (low, high): (f64, f64),
    y_desc: &str,
) -> anyhow::Result<String> {
    let n = i32::try_from(labels.len()).map_err(failed)?.max(1);
    let every = labels.len().div_ceil(6).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((0..n - 1).into_segmented(), low..high)
            .map_err(failed)?;
        // At most six labels along the bottom, so they never overlap; the table lists every week.
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .filter(|i| i % every == 0)
                .and_then(|i| labels.get(i))
                .map_or_else(String::new, |l| short(l)),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().max(1))
            .x_label_formatter(&name)
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(y_desc)
            .label_style(label_style())
            .axis_desc_style(label_style())
            .axis_style(INK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(failed)?;
        let points: Vec<(SegmentValue<i32>, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((SegmentValue::CenterOf(i32::try_from(i).ok()?), *v)))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(3))).map_err(failed)?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 5, BLUE.filled()))).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(accessible(&svg, caption, HEIGHT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption() -> Caption<'static> {
        Caption { id: "c", title: "Matters <by> phase", desc: "A & B" }
    }

    #[test]
    fn a_chart_is_a_named_scalable_image() -> anyhow::Result<()> {
        let svg = bars(
            &caption(),
            &["1".into(), "2".into()],
            &[Series { name: "n", colour: BLUE, values: &[3, 4] }],
            "ratings",
        )?;
        assert!(svg.starts_with("<svg class=\"chart\" viewBox=\"0 0 440 300\""), "{svg}");
        assert!(svg.contains("role=\"img\"") && svg.contains("aria-labelledby=\"c-title c-desc\""));
        assert!(svg.contains("<title id=\"c-title\">Matters &lt;by&gt; phase</title>"));
        assert!(svg.contains("<desc id=\"c-desc\">A &amp; B</desc>"));
        let opening = svg.split('>').next().unwrap_or_default();
        assert!(!opening.contains("width="), "the fixed size is dropped: {opening}");
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
        Ok(())
    }

    #[test]
    fn labels_a_firm_chose_are_escaped() -> anyhow::Result<()> {
        let labels = vec!["<script>alert(1)</script>".to_owned(), "Tom & \"Jerry\"".to_owned()];
        for svg in [
            lying_bars(&caption(), &labels, &[2, 1], "matters")?,
            bars(&caption(), &labels, &[Series { name: "<b>", colour: BLUE, values: &[1, 2] }], "n")?,
            line(&caption(), &labels, &[4.0, 5.0], (1.0, 5.0), "avg")?,
        ] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("<b>"), "{svg}");
            assert!(svg.contains("&lt;script&gt;") || svg.contains("&lt;script"), "{svg}");
        }
        Ok(())
    }

    #[test]
    fn two_series_have_a_legend_and_empty_data_still_draws() -> anyhow::Result<()> {
        let svg = bars(
            &caption(),
            &["2026-Q3".into(), "2026-Q4".into()],
            &[
                Series { name: "Opened", colour: BLUE, values: &[3, 1] },
                Series { name: "Closed", colour: ORANGE, values: &[0, 2] },
            ],
            "matters",
        )?;
        assert!(svg.contains(">\nOpened") || svg.contains(">Opened"), "{svg}");
        assert!(svg.contains("#A84B00") || svg.contains("#a84b00"), "{svg}");
        assert!(line(&caption(), &[], &[], (1.0, 5.0), "avg")?.contains("role=\"img\""));
        let one = bars(&caption(), &["2026-Q4".into()], &[Series { name: "n", colour: BLUE, values: &[2] }], "n")?;
        assert_eq!(one.matches("fill=\"#1F4E79\"").count(), 1, "one bar: {one}");
        assert!(line(&caption(), &["2026-W49".into()], &[4.0], (1.0, 5.0), "avg")?.contains("<circle"));
        assert!(lying_bars(&caption(), &[], &[], "n")?.contains("role=\"img\""));
        Ok(())
    }
}
