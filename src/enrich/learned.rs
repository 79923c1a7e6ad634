//! The learned half of enrichment: a linear model over a tweet's words,
//! stems, word pairs, character n-grams of unfamiliar words, and cues (who
//! it addresses, what the lexicons matched), that scores each topic and
//! whether the tweet is a complaint.
//!
//! It stands beside the lexicons of `topics.toml`, not instead of them: the
//! lexicon matches are among its features, and an operator's `force` and
//! `block` phrases still decide over it. It is trained by `kemala train` on
//! the train split of the labelled corpus (`corpus/`), its thresholds set on
//! the dev split, and shipped as one small versioned file
//! (`assets/model/enrich.kmodel`), loaded at start-up.
//!
//! Features are hashed (FNV-1a) into 2^20 buckets, so extraction allocates
//! nothing per feature; the file keeps only the buckets training gave
//! weight to. Training is logistic regression, one per class, fitted with
//! FTRL-Proximal in a fixed order, so the same corpus gives the same file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};

use anyhow::{bail, Context};

use crate::text::{Analyzer, Token, TokenKind};

/// The file format's name and version, the first line of a model file.
pub const FORMAT: &str = "kemala-enrich-model 1";

const BUCKET_BITS: u32 = 20;

/// The class of the complaint decision; topics follow it.
pub const COMPLAINT: &str = "complaint";

/// What a tweet says beyond its words: whom it addresses and what the
/// lexicons found. Computed by the enricher, used as features.
#[derive(Clone, Debug, Default)]
pub struct Cues<'a> {
    /// Mentions a configured official account, or carries #KemalaJateng.
    pub addressed: bool,
    /// Speaks to a complaint channel (#KemalaJateng, LaporGub, LAPOR!).
    pub channel: bool,
    /// Mentions an account whose handle looks like a government or public
    /// service's (pemkot, dinas, polres, pdam, lapor…).
    pub public_account: bool,
    /// Starts with an @mention: a reply or a message to someone.
    pub starts_with_mention: bool,
    /// Number of @mentions.
    pub mentions: usize,
    /// Topic ids the lexicons matched with a strong keyword or a phrase.
    pub lexicon: &'a [&'a str],
}

/// FNV-1a over a feature's kind and its parts.
struct Fnv(u64);

impl Fnv {
    fn new(kind: &str) -> Fnv {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.bytes(kind.as_bytes());
        h
    }
    fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= u64::from(*x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn part(mut self, s: &str) -> Fnv {
        self.bytes(&[0x1f]);
        self.bytes(s.as_bytes());
        self
    }
    fn bucket(&self) -> u32 {
        // Fold the high bits in: FNV's low bits alone mix poorly.
        ((self.0 ^ (self.0 >> 32)) as u32) & ((1 << BUCKET_BITS) - 1)
    }
}

/// The features of an analysed tweet, as hashed buckets (with repeats:
/// a word said twice counts twice).
pub fn features(tokens: &[Token], cues: &Cues, analyzer: &Analyzer, out: &mut Vec<u32>) {
    out.clear();
    out.push(Fnv::new("bias").bucket());
    let mut prev: Option<&str> = None;
    for t in tokens {
        match t.kind {
            TokenKind::Word => {
                out.push(Fnv::new("t").part(&t.term).bucket());
                if t.raw != t.term {
                    out.push(Fnv::new("r").part(&t.raw).bucket());
                }
                if let Some(p) = prev {
                    out.push(Fnv::new("b").part(p).part(&t.term).bucket());
                }
                prev = Some(&t.term);
                // Spelling the vocabulary does not know: its character
                // 4-grams carry what the word cannot.
                if t.raw.len() >= 5 && t.raw.is_ascii() && !analyzer.is_known(&t.raw) {
                    let padded = format!("<{}>", t.raw);
                    let b = padded.as_bytes();
                    for w in b.windows(4) {
                        // Safe: ASCII.
                        out.push(
                            Fnv::new("c")
                                .part(std::str::from_utf8(w).unwrap_or_default())
                                .bucket(),
                        );
                    }
                }
            }
            TokenKind::Hashtag => {
                out.push(Fnv::new("h").part(&t.raw).bucket());
                prev = None;
            }
            TokenKind::Mention => prev = None,
        }
    }
    let mut cue = |name: &str, on: bool| {
        if on {
            out.push(Fnv::new("cue").part(name).bucket());
        }
    };
    cue("addressed", cues.addressed);
    cue("channel", cues.channel);
    cue("public_account", cues.public_account);
    cue("starts_with_mention", cues.starts_with_mention);
    cue("one_mention", cues.mentions == 1);
    cue("many_mentions", cues.mentions > 1);
    cue("no_mention", cues.mentions == 0);
    for topic in cues.lexicon {
        out.push(Fnv::new("lex").part(topic).bucket());
    }
}

/// Keys are already hashes: use them as they are.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type BucketMap = HashMap<u32, u32, BuildHasherDefault<Identity>>;

/// Whom a tweet speaks to, as far as its mentions and hashtags tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addressee {
    /// A complaint channel: #KemalaJateng, LaporGub, LAPOR!, an `aduan`
    /// account.
    Channel,
    /// Another official or public account.
    Authority,
    /// Nobody in particular.
    Nobody,
}

/// The probability a tweet needs to be a complaint: lowest for what is
/// sent to a complaint channel, higher for what is sent to other public
/// accounts, higher still for a tweet on a topic sent to nobody, and
/// highest for the rest. Set on held-out texts by `kemala train`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ComplaintBars {
    pub channel: f32,
    pub authority: f32,
    pub topic: f32,
    pub other: f32,
}

impl Default for ComplaintBars {
    fn default() -> Self {
        ComplaintBars {
            channel: 0.5,
            authority: 0.5,
            topic: 0.5,
            other: 0.5,
        }
    }
}

impl ComplaintBars {
    /// The bar for a tweet that speaks to `to` and does or does not carry a topic.
    pub fn bar(&self, to: Addressee, has_topic: bool) -> f32 {
        match to {
            Addressee::Channel => self.channel,
            Addressee::Authority => self.authority,
            Addressee::Nobody if has_topic => self.topic,
            Addressee::Nobody => self.other,
        }
    }
}

/// How a topic is decided, chosen per topic on held-out texts: some topics
/// are said in few, fixed words the lexicons know (floods, storms), others
/// in many ways only the model learns (public services, social aid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The model's probability against the threshold.
    Model,
    /// The lexicons' match alone.
    Lexicon,
    /// Either.
    Union,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Model => "model",
            Mode::Lexicon => "lexicon",
            Mode::Union => "union",
        }
    }
    fn parse(s: &str) -> anyhow::Result<Mode> {
        Ok(match s {
            "model" => Mode::Model,
            "lexicon" => Mode::Lexicon,
            "union" => Mode::Union,
            other => bail!("unknown decision mode `{other}` in the model file"),
        })
    }
}

/// A trained model: per class a bias, a decision threshold and mode, and
/// weights on the buckets that carry any.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearModel {
    /// `complaint`, then topic ids.
    pub classes: Vec<String>,
    pub bias: Vec<f32>,
    /// Probability at or above which a class is assigned.
    pub thresholds: Vec<f32>,
    /// The complaint thresholds, by whom a tweet speaks to.
    pub bars: ComplaintBars,
    /// Per class: how it is decided (the complaint class always by model).
    pub modes: Vec<Mode>,
    rows: BucketMap,
    /// `rows.len() × classes.len()`, row-major.
    weights: Vec<f32>,
    /// Where the model came from: corpus, sizes, dev figures.
    pub provenance: String,
}

impl LinearModel {
    pub fn class_index(&self, class: &str) -> Option<usize> {
        self.classes.iter().position(|c| c == class)
    }

    /// Probabilities per class for a tweet's features.
    pub fn predict(&self, features: &[u32], out: &mut Vec<f32>) {
        let n = self.classes.len();
        out.clear();
        out.extend_from_slice(&self.bias);
        for b in features {
            if let Some(&row) = self.rows.get(b) {
                let w = &self.weights[row as usize * n..(row as usize + 1) * n];
                for (o, w) in out.iter_mut().zip(w) {
                    *o += *w;
                }
            }
        }
        for o in out.iter_mut() {
            *o = sigmoid(*o);
        }
    }

    pub fn num_weights(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }

    /// Writes the model: a text header, then the weights, all gzip'd.
    pub fn write(&self, w: impl Write) -> anyhow::Result<()> {
        let mut z = flate2::write::GzEncoder::new(w, flate2::Compression::best());
        writeln!(z, "{FORMAT}")?;
        writeln!(
            z,
            "provenance\t{}",
            self.provenance.replace(['\n', '\t'], " ")
        )?;
        writeln!(z, "classes\t{}", self.classes.join("\t"))?;
        let join = |v: &[f32]| {
            v.iter()
                .map(|x| format!("{x}"))
                .collect::<Vec<_>>()
                .join("\t")
        };
        writeln!(z, "bias\t{}", join(&self.bias))?;
        writeln!(z, "thresholds\t{}", join(&self.thresholds))?;
        let b = &self.bars;
        writeln!(
            z,
            "complaint_bars\t{}\t{}\t{}\t{}",
            b.channel, b.authority, b.topic, b.other
        )?;
        let modes: Vec<&str> = self.modes.iter().map(|m| m.as_str()).collect();
        writeln!(z, "modes\t{}", modes.join("\t"))?;
        let n = self.classes.len();
        let mut rows: Vec<(u32, u32)> = self.rows.iter().map(|(b, r)| (*b, *r)).collect();
        rows.sort_unstable();
        writeln!(z, "rows\t{}", rows.len())?;
        for (bucket, row) in rows {
            let w = &self.weights[row as usize * n..(row as usize + 1) * n];
            let cells: Vec<String> = w
                .iter()
                .enumerate()
                .filter(|(_, x)| **x != 0.0)
                .map(|(i, x)| format!("{i}:{x}"))
                .collect();
            writeln!(z, "{bucket}\t{}", cells.join(" "))?;
        }
        z.finish()?;
        Ok(())
    }

    /// Reads a model written by [`LinearModel::write`].
    pub fn read(r: impl Read) -> anyhow::Result<LinearModel> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(r)
            .read_to_string(&mut text)
            .context("the model file is not a gzip'd kemala model")?;
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        if first != FORMAT {
            bail!("unsupported model format `{first}` (this version reads `{FORMAT}`)");
        }
        let mut field = |name: &str| -> anyhow::Result<String> {
            let line = lines.next().unwrap_or_default();
            match line.split_once('\t') {
                Some((k, v)) if k == name => Ok(v.to_string()),
                _ => bail!("the model file lacks `{name}` where expected"),
            }
        };
        let floats = |s: &str| -> anyhow::Result<Vec<f32>> {
            s.split('\t')
                .map(|x| x.parse::<f32>().context("a number in the model file"))
                .collect()
        };
        let provenance = field("provenance")?;
        let classes: Vec<String> = field("classes")?.split('\t').map(String::from).collect();
        let bias = floats(&field("bias")?)?;
        let thresholds = floats(&field("thresholds")?)?;
        let b = floats(&field("complaint_bars")?)?;
        let [channel, authority, topic, other] = b[..] else {
            bail!("`complaint_bars` in the model file needs four numbers");
        };
        let bars = ComplaintBars {
            channel,
            authority,
            topic,
            other,
        };
        let modes = field("modes")?
            .split('\t')
            .map(Mode::parse)
            .collect::<anyhow::Result<Vec<Mode>>>()?;
        let num_rows: usize = field("rows")?.parse()?;
        let n = classes.len();
        if bias.len() != n || thresholds.len() != n || modes.len() != n {
            bail!("the model file's bias, thresholds or modes do not match its {n} classes");
        }
        let mut rows = BucketMap::default();
        let mut weights = vec![0.0; num_rows * n];
        for (row, line) in lines.take(num_rows).enumerate() {
            let (bucket, cells) = line.split_once('\t').unwrap_or((line, ""));
            rows.insert(
                bucket.parse().context("a bucket in the model file")?,
                row as u32,
            );
            for cell in cells.split(' ').filter(|c| !c.is_empty()) {
                let (i, x) = cell.split_once(':').context("a weight in the model file")?;
                let i: usize = i.parse()?;
                if i >= n {
                    bail!("a weight for class {i} of {n}");
                }
                weights[row * n + i] = x.parse()?;
            }
        }
        if rows.len() != num_rows {
            bail!("the model file has {} rows of {num_rows}", rows.len());
        }
        Ok(LinearModel {
            classes,
            bias,
            thresholds,
            bars,
            modes,
            rows,
            weights,
            provenance,
        })
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// How a model is fitted: FTRL-Proximal (McMahan et al., "Ad Click
/// Prediction: a View from the Trenches", KDD 2013), whose L1 term leaves
/// most hashed features at exactly zero, so the file stays small.
#[derive(Clone, Debug)]
pub struct TrainParams {
    pub epochs: usize,
    /// The per-coordinate learning rate's scale (alpha).
    pub learning_rate: f32,
    /// The learning rate's smoothing (beta).
    pub beta: f32,
    /// L1 penalty: features whose evidence stays below it get no weight.
    pub l1: f32,
    /// L2 penalty.
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            epochs: 10,
            learning_rate: 0.1,
            beta: 1.0,
            l1: 2.0,
            l2: 1.0,
            seed: 7,
        }
    }
}

/// One training example: its features and, per class, whether it holds.
pub struct Example {
    pub features: Vec<u32>,
    pub labels: Vec<bool>,
}

/// Fits one logistic regression per class with FTRL-Proximal, visiting the
/// examples in an order fixed by `seed`. Thresholds start at 0.5; the
/// caller sets them on held-out data.
pub fn train(classes: &[String], examples: &[Example], p: &TrainParams) -> LinearModel {
    let n = classes.len();
    let mut rows = BucketMap::default();
    for e in examples {
        for b in &e.features {
            let next = rows.len() as u32;
            rows.entry(*b).or_insert(next);
        }
    }
    // Per coordinate: FTRL's z and n; the bias is an always-on coordinate.
    let dim = rows.len() + 1;
    let mut z = vec![0.0f32; dim * n];
    let mut nn = vec![0.0f32; dim * n];
    let weight = |z: f32, nn: f32| -> f32 {
        if z.abs() <= p.l1 {
            0.0
        } else {
            -(z - z.signum() * p.l1) / ((p.beta + nn.sqrt()) / p.learning_rate + p.l2)
        }
    };
    // Positives are rare for most topics: weigh them up so a class is
    // learned at all (the threshold, set later, restores precision).
    let pos_weight: Vec<f32> = (0..n)
        .map(|c| {
            let pos = examples.iter().filter(|e| e.labels[c]).count().max(1) as f32;
            let neg = (examples.len() as f32 - pos).max(1.0);
            (neg / pos).sqrt().clamp(1.0, 10.0)
        })
        .collect();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut state = p.seed.max(1);
    let mut next_rand = || {
        // xorshift64*: a fixed sequence from the seed.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let bias_row = rows.len();
    let mut idx: Vec<usize> = Vec::new();
    for _ in 0..p.epochs {
        for i in (1..order.len()).rev() {
            let j = (next_rand() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &k in &order {
            let e = &examples[k];
            idx.clear();
            idx.extend(e.features.iter().map(|b| rows[b] as usize));
            idx.push(bias_row);
            for c in 0..n {
                let score: f32 = idx
                    .iter()
                    .map(|r| weight(z[r * n + c], nn[r * n + c]))
                    .sum();
                let y = if e.labels[c] { 1.0 } else { 0.0 };
                let g = (sigmoid(score) - y) * if e.labels[c] { pos_weight[c] } else { 1.0 };
                for r in &idx {
                    let i = r * n + c;
                    let w = weight(z[i], nn[i]);
                    let sigma = ((nn[i] + g * g).sqrt() - nn[i].sqrt()) / p.learning_rate;
                    z[i] += g - sigma * w;
                    nn[i] += g * g;
                }
            }
        }
    }
    // Keep only the rows that carry weight.
    let mut kept = BucketMap::default();
    let mut weights = Vec::new();
    let mut buckets: Vec<(u32, u32)> = rows.into_iter().collect();
    buckets.sort_unstable();
    for (bucket, r) in buckets {
        let row: Vec<f32> = (0..n)
            .map(|c| round(weight(z[r as usize * n + c], nn[r as usize * n + c])))
            .collect();
        if row.iter().any(|x| *x != 0.0) {
            kept.insert(bucket, kept.len() as u32);
            weights.extend(row);
        }
    }
    let bias = (0..n)
        .map(|c| round(weight(z[bias_row * n + c], nn[bias_row * n + c])))
        .collect();
    LinearModel {
        classes: classes.to_vec(),
        bias,
        thresholds: vec![0.5; n],
        bars: ComplaintBars::default(),
        modes: vec![Mode::Model; n],
        rows: kept,
        weights,
        provenance: String::new(),
    }
}

/// Four significant digits: what the file keeps.
fn round(x: f32) -> f32 {
    format!("{x:.4e}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::analyzer;

    fn feats(text: &str, cues: &Cues) -> Vec<u32> {
        let mut toks = Vec::new();
        analyzer().analyse(text, &mut toks);
        let mut out = Vec::new();
        features(&toks, cues, analyzer(), &mut out);
        out
    }

    #[test]
    fn a_model_learns_separable_classes_and_survives_its_file() {
        let classes = vec![COMPLAINT.to_string(), "flood".to_string()];
        let texts = [
            ("banjir di rumah kami, tolong pak", true, true),
            ("air masuk rumah lagi, banjir parah", true, true),
            ("semoga tidak banjir tahun ini", false, true),
            ("selamat pagi semuanya", false, false),
            ("jalan rusak tolong diperbaiki", true, false),
            ("terima kasih pak atas bantuannya", false, false),
        ];
        let examples: Vec<Example> = texts
            .iter()
            .map(|(t, c, f)| Example {
                features: feats(t, &Cues::default()),
                labels: vec![*c, *f],
            })
            .collect();
        let model = train(&classes, &examples, &TrainParams::default());
        let mut p = Vec::new();
        for (e, (t, c, f)) in examples.iter().zip(texts) {
            model.predict(&e.features, &mut p);
            assert_eq!((p[0] >= 0.5, p[1] >= 0.5), (c, f), "{t}: {p:?}");
        }
        let mut file = Vec::new();
        model.write(&mut file).unwrap();
        let back = LinearModel::read(&file[..]).unwrap();
        let mut q = Vec::new();
        back.predict(&examples[0].features, &mut q);
        model.predict(&examples[0].features, &mut p);
        assert_eq!(p, q, "the file keeps every weight");
        assert_eq!(back, model);
    }

    #[test]
    fn training_is_reproducible() {
        let classes = vec![COMPLAINT.to_string()];
        let examples: Vec<Example> = ["a b c", "b c d", "c d e", "d e f"]
            .iter()
            .enumerate()
            .map(|(i, t)| Example {
                features: feats(t, &Cues::default()),
                labels: vec![i % 2 == 0],
            })
            .collect();
        let a = train(&classes, &examples, &TrainParams::default());
        let b = train(&classes, &examples, &TrainParams::default());
        assert_eq!(a, b);
    }

    #[test]
    fn a_file_of_another_format_gets_a_clear_error() {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"something else\n").unwrap();
        let err = LinearModel::read(&z.finish().unwrap()[..]).unwrap_err();
        assert!(
            err.to_string().contains("unsupported model format"),
            "{err}"
        );
    }
}
