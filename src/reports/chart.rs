//! Pure: a bar chart (one series) or a grouped bar chart (several) as an inline SVG string,
//! sized by its viewBox so it scales with the page. Accessible: `role="img"`, a `<title>` and a
//! `<desc>`, every bar with its own `<title>` (the tooltip and what a screen reader reads); all
//! text is escaped. Values are only geometry here (pixels); the table beside the chart holds
//! the exact amounts.

/// One series: its name (the legend) and one value per label.
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

pub struct Chart {
    /// What the chart shows (its `<title>`).
    pub title: String,
    /// The groups along the x axis (months, lead sources).
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// How a value is written on the y axis and in a bar's tooltip.
    pub format: fn(f64) -> String,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;
const COLOURS: [&str; 6] = [
    "#3b6ea5", "#d08c2f", "#4f9a5e", "#b0475a", "#7a5ea8", "#6b7b8c",
];

/// Text for SVG (XML): `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A round step for about `n` ticks over `span` (1, 2 or 5 times a power of ten).
pub fn nice_step(span: f64, n: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n;
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let k = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    k * p
}

/// The chart as `<svg>`: bars grouped by label, one colour per series, a zero line, y ticks
/// with their values, the labels under the groups and a legend when there are several series.
pub fn bars(c: &Chart) -> String {
    let values = c.series.iter().flat_map(|s| s.values.iter().copied());
    let finite: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    let max = finite.iter().copied().fold(0.0, f64::max);
    let min = finite.iter().copied().fold(0.0, f64::min);
    let step = nice_step(max - min, 4.0);
    let top = (max / step).ceil() * step;
    let bottom = (min / step).floor() * step;
    let (top, bottom) = if top - bottom <= 0.0 {
        (step, 0.0)
    } else {
        (top, bottom)
    };
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + (top - v) / (top - bottom) * plot_h;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{d}</desc>",
        id = id_of(&c.title),
        t = escape(&c.title),
        d = escape(&describe(c)),
    );
    // The y axis: ticks from bottom to top.
    let mut v = bottom;
    let mut ticks = 0;
    while v <= top + step / 2.0 && ticks < 50 {
        let yy = y(v);
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" \
             stroke=\"#ddd\"/><text class=\"tick\" x=\"{tx}\" y=\"{ty:.1}\" \
             text-anchor=\"end\" font-size=\"11\">{label}</text>",
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
            label = escape(&(c.format)(v)),
        ));
        v += step;
        ticks += 1;
    }
    let n = c.labels.len().max(1) as f64;
    let group_w = (WIDTH - LEFT - RIGHT) / n;
    let k = c.series.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / k).max(1.0);
    let zero = y(0.0);
    for (i, label) in c.labels.iter().enumerate() {
        let gx = LEFT + group_w * i as f64 + group_w * 0.1;
        for (j, s) in c.series.iter().enumerate() {
            let value = s.values.get(i).copied().unwrap_or(0.0);
            let value = if value.is_finite() { value } else { 0.0 };
            let (y0, h) = if value >= 0.0 {
                (y(value), zero - y(value))
            } else {
                (zero, y(value) - zero)
            };
            svg.push_str(&format!(
                "<rect class=\"bar series-{j}\" x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{bar_w:.1}\" \
                 height=\"{h:.1}\" fill=\"{fill}\"><title>{t}</title></rect>",
                x = gx + bar_w * j as f64,
                fill = COLOURS[j % COLOURS.len()],
                t = escape(&format!("{label}, {}: {}", s.name, (c.format)(value))),
            ));
        }
        // Label every group when they fit, else every second, third, ... one: at most twelve,
        // and never closer than the longest label is wide (about 6 px a character).
        let longest = c
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0) as f64;
        let every = (n / 12.0)
            .ceil()
            .max((longest * 6.0 + 4.0) / group_w)
            .ceil()
            .max(1.0) as usize;
        if i % every == 0 {
            svg.push_str(&format!(
                "<text class=\"label\" x=\"{x:.1}\" y=\"{ly}\" text-anchor=\"middle\" \
                 font-size=\"11\">{t}</text>",
                x = LEFT + group_w * (i as f64 + 0.5),
                ly = HEIGHT - BOTTOM + 16.0,
                t = escape(label),
            ));
        }
    }
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{zero:.1}\" y2=\"{zero:.1}\" \
         stroke=\"#555\"/>",
        x2 = WIDTH - RIGHT
    ));
    if c.series.len() > 1 {
        let mut lx = LEFT;
        for (j, s) in c.series.iter().enumerate() {
            svg.push_str(&format!(
                "<g class=\"legend\"><rect x=\"{lx:.1}\" y=\"8\" width=\"10\" height=\"10\" \
                 fill=\"{fill}\"/><text x=\"{tx:.1}\" y=\"17\" font-size=\"11\">{t}</text></g>",
                fill = COLOURS[j % COLOURS.len()],
                tx = lx + 14.0,
                t = escape(&s.name),
            ));
            lx += 24.0 + 7.0 * s.name.chars().count() as f64;
        }
    }
    if c.labels.is_empty() {
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"13\">Nothing in this \
             range</text>",
            x = WIDTH / 2.0,
            y = HEIGHT / 2.0
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The chart in a sentence (its `<desc>`).
fn describe(c: &Chart) -> String {
    let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
    match (c.labels.first(), c.labels.last()) {
        (Some(a), Some(b)) => format!(
            "Bars of {} for {} groups, {a} to {b}; the table below has the figures.",
            names.join(", "),
            c.labels.len()
        ),
        _ => "No data in this range.".to_string(),
    }
}

/// An id for the title and desc elements made from the title (letters and digits only).
fn id_of(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("chart-{}", s.trim_matches('-'))
}

/// Days and the like: one decimal.
pub fn one_decimal(v: f64) -> String {
    format!("{v:.1}")
}

/// Whole numbers with thousands separators (a y axis of amounts or counts).
pub fn whole(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(labels: &[&str], series: &[(&str, &[f64])]) -> Chart {
        Chart {
            title: "Cash flow".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            series: series
                .iter()
                .map(|(n, v)| Series {
                    name: n.to_string(),
                    values: v.to_vec(),
                })
                .collect(),
            format: whole,
        }
    }

    #[test]
    fn a_chart_is_an_accessible_svg_sized_by_its_viewbox() {
        let svg = bars(&chart(&["Jan", "Feb"], &[("Invoiced", &[100.0, 250.0])]));
        assert!(svg.starts_with("<svg class=\"chart\" viewBox=\"0 0 720 300\" role=\"img\""));
        assert!(svg.contains("<title id=\"chart-cash-flow-t\">Cash flow</title>"));
        assert!(svg.contains("<desc"));
        assert!(!svg.contains("width=\"720\""), "sized by the viewBox only");
        assert_eq!(svg.matches("<rect class=\"bar").count(), 2);
        assert!(svg.contains("<title>Feb, Invoiced: 250</title>"));
        assert!(svg.ends_with("</svg>"));
        // One series: no legend.
        assert!(!svg.contains("class=\"legend\""));
    }

    #[test]
    fn grouped_bars_have_one_bar_per_series_and_a_legend() {
        let svg = bars(&chart(
            &["Jan", "Feb", "Mar"],
            &[
                ("Invoiced", &[1.0, 2.0, 3.0]),
                ("Collected", &[3.0, 2.0, 1.0]),
            ],
        ));
        assert_eq!(svg.matches("class=\"bar series-0\"").count(), 3);
        assert_eq!(svg.matches("class=\"bar series-1\"").count(), 3);
        assert_eq!(svg.matches("class=\"legend\"").count(), 2);
        assert_eq!(svg.matches("class=\"label\"").count(), 3);
    }

    #[test]
    fn long_labels_are_spaced_so_that_they_do_not_overlap() {
        let labels: Vec<String> = (0..25).map(|i| format!("Scale couple {i:03}")).collect();
        let names: Vec<&str> = labels.iter().map(String::as_str).collect();
        let values = vec![1.0; 25];
        let svg = bars(&chart(&names, &[("Margin", &values)]));
        // 25 groups of 25.4 px; a label of 16 characters needs about 100 px: every 4th.
        assert_eq!(svg.matches("class=\"label\"").count(), 7);
        // Twelve months of "Mar 2026" still fit one a month.
        let months: Vec<String> = (1..=12).map(|m| format!("M{m:02} 2026")).collect();
        let names: Vec<&str> = months.iter().map(String::as_str).collect();
        let svg = bars(&chart(&names, &[("x", &[1.0; 12])]));
        assert_eq!(svg.matches("class=\"label\"").count(), 12);
    }

    #[test]
    fn text_is_escaped_everywhere() {
        let mut c = chart(&["<b>&\"'"], &[("<script>", &[1.0])]);
        c.title = "A & <B>".into();
        let svg = bars(&c);
        assert!(!svg.contains("<script>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&amp;&quot;&#39;"));
        assert!(svg.contains("A &amp; &lt;B&gt;"));
    }

    #[test]
    fn bars_grow_from_the_zero_line_both_ways_and_scale_to_the_largest() {
        let svg = bars(&chart(&["a", "b"], &[("Net", &[100.0, -50.0])]));
        let heights: Vec<f64> = svg
            .split("height=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse().ok())
            .collect();
        // The positive bar is twice the negative one.
        assert!((heights[0] - 2.0 * heights[1]).abs() < 0.3, "{heights:?}");
        // Ticks include zero, a negative and the top.
        assert!(svg.contains(">0</text>"));
        assert!(svg.contains(">-50</text>"));
        assert!(svg.contains(">100</text>"));
    }

    #[test]
    fn empty_and_all_zero_charts_still_draw() {
        let svg = bars(&chart(&[], &[("x", &[])]));
        assert!(svg.contains("Nothing in this range"));
        let svg = bars(&chart(&["a"], &[("x", &[0.0])]));
        assert!(svg.contains("height=\"0.0\""));
        let svg = bars(&chart(&["a"], &[("x", &[f64::NAN])]));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn steps_are_round_and_numbers_have_separators() {
        assert_eq!(nice_step(100.0, 4.0), 50.0);
        assert_eq!(nice_step(12_345.0, 4.0), 5_000.0);
        assert_eq!(nice_step(7.0, 4.0), 2.0);
        assert_eq!(nice_step(0.0, 4.0), 1.0);
        assert_eq!(whole(1_234_567.4), "1,234,567");
        assert_eq!(whole(-1_000.0), "-1,000");
        assert_eq!(whole(999.0), "999");
    }
}
