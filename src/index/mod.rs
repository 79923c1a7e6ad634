//! The tantivy index: schema, Indonesian analysis, the single writer, and search.
//!
//! One writer, owned by the pipeline's indexing thread, adds enriched tweets
//! and commits on size or time. Each commit carries the Kafka offsets it
//! covers in its payload, so the index and the offsets can never disagree:
//! on start the engine reads them back and resumes exactly there. Readers
//! are cheap clones of [`IndexHandle`] used by HTTP.
//!
//! Text is indexed from tokens computed once by enrichment (a
//! `PreTokenizedString`); queries are analysed by the same analyzer,
//! registered as the `kemala` tokenizer. `text` holds the analysed terms
//! (slang expanded, stemmed, Javanese folded); `text_exact` holds the same
//! words' lowercased surface forms, so that a quoted phrase matches exactly
//! what was written (tokenizer `kemala_exact`).

pub mod search;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::tokenizer::{PreTokenizedString, Token as TvToken, TokenStream, Tokenizer};
use tantivy::{DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::config::Config;
use crate::model::{Enriched, Lost, Offsets};
use crate::sched;
use crate::text::{analyzer, Token};

pub const TOKENIZER: &str = "kemala";
/// The tokenizer of `text_exact`: surface forms only.
pub const EXACT_TOKENIZER: &str = "kemala_exact";

/// Threads that build segments. Two keep up with one pipeline thread on
/// the 2-core machine this was measured on (`cargo bench --bench throughput`).
pub const INDEXING_THREADS: usize = 2;

#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct CommitPayload {
    pub version: u32,
    pub offsets: Offsets,
    /// Highest event time indexed so far (ms), the watermark.
    #[serde(default)]
    pub watermark_ms: i64,
    /// The newest event time (ms) seen in each partition, against which a
    /// restart judges lateness as the run before it did.
    #[serde(default)]
    pub event_times: Offsets,
    /// Messages lost to broker retention, as accepted so far.
    #[serde(default)]
    pub lost: Lost,
}

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub id: Field,
    pub created_at: Field,
    pub text: Field,
    /// Lowercased surface forms, neither expanded nor stemmed: what a
    /// quoted phrase matches.
    pub text_exact: Field,
    pub body: Field,
    pub author: Field,
    pub author_id: Field,
    pub lang: Field,
    pub topic: Field,
    pub region: Field,
    pub agency: Field,
    pub is_complaint: Field,
    pub is_retweet: Field,
    pub reply_to: Field,
    pub conversation: Field,
    pub official: Field,
    pub author_hash: Field,
    pub retweet_of: Field,
    pub mentioned: Field,
    pub primary_topic: Field,
    pub detect_late: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let num = NumericOptions::default()
        .set_indexed()
        .set_fast()
        .set_stored();
    let id = b.add_u64_field("id", num.clone());
    let created_at = b.add_date_field(
        "created_at",
        DateOptions::default()
            .set_indexed()
            .set_fast()
            .set_stored()
            .set_precision(DateTimePrecision::Seconds),
    );
    // Analysed with positions, for phrases; the tokens come pre-computed.
    let positions = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let text = b.add_text_field("text", positions(TOKENIZER));
    let text_exact = b.add_text_field("text_exact", positions(EXACT_TOKENIZER));
    let body = b.add_text_field("body", STORED);
    let author = b.add_text_field("author", STRING | STORED | FAST);
    let author_id = b.add_text_field("author_id", STRING | STORED);
    let lang = b.add_text_field("lang", STRING | STORED | FAST);
    let topic = b.add_text_field("topic", STRING | STORED | FAST);
    let region = b.add_u64_field("region", num.clone());
    let agency = b.add_text_field("agency", STRING | STORED | FAST);
    let is_complaint = b.add_bool_field("is_complaint", num.clone());
    let is_retweet = b.add_bool_field("is_retweet", num.clone());
    let reply_to = b.add_u64_field("reply_to", num.clone());
    let conversation = b.add_u64_field("conversation", num.clone());
    let official = b.add_text_field("official", STRING | STORED | FAST);
    let author_hash = b.add_u64_field("author_hash", NumericOptions::default().set_fast());
    let retweet_of = b.add_u64_field("retweet_of", num);
    // Official accounts mentioned: a governor's forward names the agency.
    let mentioned = b.add_text_field("mentioned", STRING | FAST);
    // The strongest topic, which routing and response times attribute to.
    let primary_topic = b.add_text_field("primary_topic", STRING | FAST);
    // Too late for the spike detector when it arrived: a rebuild skips it
    // too, so the rebuilt detector equals the live one.
    let detect_late = b.add_bool_field("detect_late", NumericOptions::default().set_fast());
    let fields = Fields {
        id,
        created_at,
        text,
        text_exact,
        body,
        author,
        author_id,
        lang,
        topic,
        region,
        agency,
        is_complaint,
        is_retweet,
        reply_to,
        conversation,
        official,
        author_hash,
        retweet_of,
        mentioned,
        primary_topic,
        detect_late,
    };
    (b.build(), fields)
}

/// The query-side tokenizer: the same analysis as enrichment.
#[derive(Clone, Default)]
pub struct KemalaTokenizer;

pub struct VecTokenStream {
    tokens: Vec<TvToken>,
    cursor: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.cursor += 1;
        self.cursor <= self.tokens.len()
    }
    fn token(&self) -> &TvToken {
        &self.tokens[self.cursor - 1]
    }
    fn token_mut(&mut self) -> &mut TvToken {
        &mut self.tokens[self.cursor - 1]
    }
}

impl Tokenizer for KemalaTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        analysed(text, false)
    }
}

/// The query-side tokenizer of `text_exact`: lowercased surface forms.
#[derive(Clone, Default)]
pub struct KemalaExactTokenizer;

impl Tokenizer for KemalaExactTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        analysed(text, true)
    }
}

/// `text` analysed as enrichment does; with `exact`, its surface forms only.
fn analysed(text: &str, exact: bool) -> VecTokenStream {
    let mut toks = Vec::new();
    analyzer().analyse(text, &mut toks);
    if exact {
        toks = crate::text::exact_tokens(&toks);
    }
    VecTokenStream {
        tokens: to_tantivy(&toks),
        cursor: 0,
    }
}

fn to_tantivy(toks: &[Token]) -> Vec<TvToken> {
    toks.iter()
        .map(|t| TvToken {
            offset_from: t.from,
            offset_to: t.to,
            position: t.position,
            text: t.term.clone(),
            position_length: 1,
        })
        .collect()
}

/// A shareable, read-only view of the index.
#[derive(Clone)]
pub struct IndexHandle {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub topic_ids: std::sync::Arc<Vec<String>>,
    pub regions: std::sync::Arc<BTreeMap<u16, (String, String)>>,
    pub agency_ids: std::sync::Arc<Vec<String>>,
    /// The snapshots relevance-sorted cursors page through.
    snapshots: std::sync::Arc<search::Snapshots>,
    /// Facet counts per segment, for requests over the whole index.
    facet_cache: std::sync::Arc<search::FacetCache>,
}

impl IndexHandle {
    /// Opens (or creates) the index in `dir`. A damaged index (a truncated
    /// or missing file, unreadable metadata) is an error that names the
    /// directory and the way out.
    pub fn open(dir: &Path, config: &Config) -> anyhow::Result<IndexHandle> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create index directory `{}`", dir.display()))?;
        let (schema, fields) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir)
            .with_context(|| format!("cannot open index directory `{}`", dir.display()))?;
        let damaged = |e: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "the index in `{}` is damaged and cannot be opened ({e}). Move that directory \
                 aside (keep it for inspection) and start kemala again: it builds a new index \
                 from what Kafka still holds, from the beginning of each partition; replay older \
                 tweets from their archive with `kemala replay`",
                dir.display()
            )
        };
        let index = Index::open_or_create(mmap, schema).map_err(|e| match e {
            // A schema from another version is not damage: say so plainly.
            tantivy::TantivyError::SchemaError(_) => anyhow::anyhow!(
                "the index in `{}` was written with a different schema ({e}); delete it and let \
                 kemala rebuild it from Kafka, or replay the archive",
                dir.display()
            ),
            e => damaged(&e),
        })?;
        index.tokenizers().register(TOKENIZER, KemalaTokenizer);
        index
            .tokenizers()
            .register(EXACT_TOKENIZER, KemalaExactTokenizer);
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| damaged(&e))?;
        // Opening a reader maps the files; reading every segment's
        // document store and fast fields checks they are whole.
        for seg in reader.searcher().segment_readers() {
            seg.get_store_reader(0).map_err(|e| damaged(&e))?;
            seg.fast_fields().u64("id").map_err(|e| damaged(&e))?;
        }
        if let Some(p) = index.load_metas().map_err(|e| damaged(&e))?.payload {
            serde_json::from_str::<CommitPayload>(&p)
                .map_err(|e| damaged(&format!("its commit payload is not valid: {e}")))?;
        }
        Ok(IndexHandle {
            index,
            reader,
            fields,
            topic_ids: std::sync::Arc::new(config.topics.iter().map(|t| t.id.clone()).collect()),
            regions: std::sync::Arc::new(
                config
                    .region_labels()
                    .map(|(code, name, slug)| (code, (name.to_string(), slug.to_string())))
                    .collect(),
            ),
            agency_ids: std::sync::Arc::new(config.agencies.iter().map(|a| a.id.clone()).collect()),
            snapshots: Default::default(),
            facet_cache: Default::default(),
        })
    }

    /// The payload of the last commit: offsets and watermark.
    pub fn committed(&self) -> anyhow::Result<CommitPayload> {
        let metas = self
            .index
            .load_metas()
            .context("cannot read the index metadata")?;
        match metas.payload {
            None => Ok(CommitPayload::default()),
            Some(p) => serde_json::from_str(&p).context("the index commit payload is not valid"),
        }
    }

    pub fn num_docs(&self) -> u64 {
        self.held_searcher().num_docs()
    }

    /// The current searcher, let go of in the background (see
    /// [`HeldSearcher`]): what request paths read.
    pub fn held_searcher(&self) -> HeldSearcher {
        HeldSearcher::new(self.reader.searcher())
    }

    /// The records of every live tweet created at or after `since_ms`, in
    /// event-time order: what the detector and the latency tracker are
    /// rebuilt from on start, so their state always matches the index.
    /// Each record comes with its `detect_late` flag.
    pub fn records_since(
        &self,
        since_ms: i64,
    ) -> anyhow::Result<Vec<(crate::model::Record, bool)>> {
        use crate::model::{AgencyId, Record, RegionCode, TopicId};
        use std::collections::HashMap;
        /// Configured id → its index in the configuration.
        fn index_of(ids: &[String]) -> HashMap<&str, u16> {
            (0..).zip(ids).map(|(i, id)| (id.as_str(), i)).collect()
        }
        let (topic_index, agency_index) = (index_of(&self.topic_ids), index_of(&self.agency_ids));
        let searcher = self.reader.searcher();
        let mut out = Vec::new();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            let ids = ff.u64("id")?;
            let created = ff.date("created_at")?;
            let author = ff.u64("author_hash")?;
            let region = ff.u64("region")?;
            let complaint = ff.bool("is_complaint")?;
            let retweet = ff.u64("retweet_of")?;
            let reply_to = ff.u64("reply_to")?;
            let conversation = ff.u64("conversation")?;
            let late = ff.bool("detect_late")?;
            // String columns: map each term ordinal of this segment to an id once.
            let ords = |name: &str,
                        index: &dyn Fn(&str) -> Option<u16>|
             -> anyhow::Result<(
                Option<tantivy::columnar::StrColumn>,
                Vec<Option<u16>>,
            )> {
                let col = ff.str(name)?;
                let mut map = Vec::new();
                if let Some(c) = &col {
                    let mut s = String::new();
                    for ord in 0..c.num_terms() as u64 {
                        map.push(if c.ord_to_str(ord, &mut s)? {
                            index(&s)
                        } else {
                            None
                        });
                    }
                }
                Ok((col, map))
            };
            let (topics_col, topics_map) = ords("topic", &|s| topic_index.get(s).copied())?;
            let (primary_col, primary_map) =
                ords("primary_topic", &|s| topic_index.get(s).copied())?;
            let (agency_col, agency_map) = ords("agency", &|s| agency_index.get(s).copied())?;
            let (official_col, official_map) = ords("official", &|s| agency_index.get(s).copied())?;
            let (mentioned_col, mentioned_map) =
                ords("mentioned", &|s| agency_index.get(s).copied())?;
            let values = |col: &Option<tantivy::columnar::StrColumn>,
                          map: &[Option<u16>],
                          doc|
             -> Vec<u16> {
                col.as_ref().map_or_else(Vec::new, |c| {
                    c.term_ords(doc)
                        .filter_map(|o| map.get(o as usize).copied().flatten())
                        .collect()
                })
            };
            let alive = seg.alive_bitset();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let created_at_ms = created.first(doc).map_or(0, |d| d.into_timestamp_millis());
                if created_at_ms < since_ms {
                    continue;
                }
                let nonzero = |v: Option<u64>| v.filter(|x| *x != 0);
                // The primary topic first, as enrichment ordered them.
                let mut topics = values(&primary_col, &primary_map, doc);
                for t in values(&topics_col, &topics_map, doc) {
                    if !topics.contains(&t) {
                        topics.push(t);
                    }
                }
                out.push((
                    Record {
                        id: ids.first(doc).unwrap_or(0),
                        created_at_ms,
                        author: author.first(doc).unwrap_or(0),
                        topics: topics.into_iter().map(TopicId).collect(),
                        region: RegionCode(region.first(doc).unwrap_or(0) as u16),
                        is_complaint: complaint.first(doc).unwrap_or(false),
                        retweet_of: nonzero(retweet.first(doc)),
                        agency: values(&agency_col, &agency_map, doc)
                            .first()
                            .map(|a| AgencyId(*a)),
                        official_author: values(&official_col, &official_map, doc)
                            .first()
                            .map(|a| AgencyId(*a)),
                        reply_to: nonzero(reply_to.first(doc)),
                        conversation: nonzero(conversation.first(doc)),
                        mentioned_agencies: values(&mentioned_col, &mentioned_map, doc)
                            .into_iter()
                            .map(AgencyId)
                            .collect(),
                    },
                    late.first(doc).unwrap_or(false),
                ));
            }
        }
        // Event-time order, ties by id.
        out.sort_by_key(|(r, _)| (r.created_at_ms, r.id));
        Ok(out)
    }

    pub fn region_name(&self, code: u16) -> String {
        self.regions
            .get(&code)
            .map_or_else(|| "unknown".to_string(), |(n, _)| n.clone())
    }
}

/// A tantivy searcher that is let go of on a background thread. The last
/// holder of an old searcher closes the segment files that merges deleted
/// since, and the filesystem frees their blocks in that call: on a disk
/// mounted with `discard`, a synchronous trim of a large segment, tens of
/// milliseconds that a search must not pay (see `sched`).
pub struct HeldSearcher(Option<tantivy::Searcher>);

impl HeldSearcher {
    pub fn new(searcher: tantivy::Searcher) -> HeldSearcher {
        HeldSearcher(Some(searcher))
    }
}

impl std::ops::Deref for HeldSearcher {
    type Target = tantivy::Searcher;
    fn deref(&self) -> &tantivy::Searcher {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for HeldSearcher {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            sched::drop_in_background(s);
        }
    }
}

/// Bytes free (for an unprivileged writer) on the filesystem holding `dir`.
/// A failed write often reports only that tantivy's worker thread died;
/// this says whether the disk is the reason.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid C string and `st` is written by statvfs
    // before it is read, only when the call succeeds.
    let st = unsafe {
        if libc::statvfs(path.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// The single index writer, owned by the indexing thread.
///
/// A write that fails (a full disk, an I/O error) leaves tantivy's writer
/// unusable and loses what it held since the last commit. From then on the
/// writer is *broken*: adds only remember their ids (so duplicates are still
/// recognised) and a commit fails, until [`Writer::rollback`] returns it to
/// the last commit. The caller keeps what it must add again.
pub struct Writer {
    handle: IndexHandle,
    writer: IndexWriter,
    /// Ids added since the last commit: the reader can't see them yet.
    pending_ids: HashSet<u64>,
    pub num_pending: usize,
    broken: bool,
}

impl Writer {
    /// Indexing and merging are background work (see `sched`): the writer's
    /// threads are started at background priority, here and wherever tantivy
    /// starts them again (a commit or a rollback restarts its workers).
    pub fn new(handle: &IndexHandle, memory_mib: usize) -> anyhow::Result<Writer> {
        let writer = sched::in_background("kemala-index", || {
            handle
                .index
                .writer_with_num_threads(INDEXING_THREADS, memory_mib * 1024 * 1024)
        })
        .context("cannot open the index writer (is another kemala using this data_dir?)")?;
        Ok(Writer {
            handle: handle.clone(),
            writer,
            pending_ids: HashSet::new(),
            num_pending: 0,
            broken: false,
        })
    }

    /// Whether a tweet id is already indexed or pending.
    pub fn contains(&self, searcher: &tantivy::Searcher, id: u64) -> bool {
        if self.pending_ids.contains(&id) {
            return true;
        }
        let term = Term::from_field_u64(self.handle.fields.id, id);
        searcher.segment_readers().iter().any(|s| {
            s.inverted_index(self.handle.fields.id)
                .ok()
                .and_then(|ii| ii.doc_freq(&term).ok())
                .unwrap_or(0)
                > 0
        })
    }

    /// Adds one enriched tweet; `detect_late` records that the spike
    /// detector found it too late.
    pub fn add(&mut self, e: &Enriched, tokens: &[Token], detect_late: bool) -> anyhow::Result<()> {
        let t = &e.tweet;
        self.pending_ids.insert(t.id);
        self.num_pending += 1;
        if self.broken {
            return Ok(());
        }
        let f = &self.handle.fields;
        let mut doc = TantivyDocument::new();
        doc.add_u64(f.id, t.id);
        doc.add_date(
            f.created_at,
            DateTime::from_timestamp_millis(t.created_at_ms),
        );
        doc.add_pre_tokenized_text(
            f.text,
            PreTokenizedString {
                text: String::new(),
                tokens: to_tantivy(tokens),
            },
        );
        doc.add_pre_tokenized_text(
            f.text_exact,
            PreTokenizedString {
                text: String::new(),
                tokens: to_tantivy(&crate::text::exact_tokens(tokens)),
            },
        );
        doc.add_text(f.body, &t.text);
        doc.add_text(f.author, t.author_username.to_lowercase());
        doc.add_text(f.author_id, &t.author_id);
        doc.add_text(f.lang, e.lang.code());
        for topic in &e.topics {
            doc.add_text(f.topic, &self.handle.topic_ids[topic.0 as usize]);
        }
        if let Some(topic) = e.topics.first() {
            doc.add_text(f.primary_topic, &self.handle.topic_ids[topic.0 as usize]);
        }
        doc.add_u64(f.region, e.region.0 as u64);
        if let Some(a) = e.agency {
            doc.add_text(f.agency, &self.handle.agency_ids[a.0 as usize]);
        }
        doc.add_bool(f.is_complaint, e.is_complaint);
        doc.add_bool(f.is_retweet, t.retweet_of.is_some());
        doc.add_u64(f.reply_to, t.in_reply_to_tweet.unwrap_or(0));
        doc.add_u64(f.conversation, t.conversation_id.unwrap_or(0));
        if let Some(a) = e.official_author {
            doc.add_text(f.official, &self.handle.agency_ids[a.0 as usize]);
        }
        doc.add_u64(
            f.author_hash,
            crate::model::stable_hash(t.author_id.as_bytes()),
        );
        doc.add_bool(f.detect_late, detect_late);
        doc.add_u64(f.retweet_of, t.retweet_of.unwrap_or(0));
        for a in &e.mentioned_agencies {
            doc.add_text(f.mentioned, &self.handle.agency_ids[a.0 as usize]);
        }
        if let Err(e) = self.writer.add_document(doc) {
            self.broken = true;
            return Err(anyhow::Error::new(e).context("cannot add a document to the index"));
        }
        Ok(())
    }

    /// Whether a write failed since the last commit or rollback.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Discards everything since the last commit and makes the writer
    /// usable again. The index stays exactly as that commit left it.
    pub fn rollback(&mut self) -> anyhow::Result<()> {
        self.pending_ids.clear();
        self.num_pending = 0;
        sched::in_background("kemala-index", || self.writer.rollback())
            .context("cannot roll the index writer back to its last commit")?;
        self.broken = false;
        Ok(())
    }

    /// Deletes tweets older than `cutoff_ms` (event time), for retention.
    pub fn delete_before(&mut self, cutoff_ms: i64) {
        let f = self.handle.fields;
        let q = tantivy::query::RangeQuery::new(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Excluded(Term::from_field_date(
                f.created_at,
                DateTime::from_timestamp_millis(cutoff_ms),
            )),
        );
        // A failed delete is retried at the next commit.
        let _ = self.writer.delete_query(Box::new(q));
    }

    /// Commits everything added so far with `payload`, then makes it searchable.
    pub fn commit(&mut self, payload: &CommitPayload) -> anyhow::Result<()> {
        if self.broken {
            anyhow::bail!("an earlier write failed; the writer must roll back first");
        }
        let json = serde_json::to_string(payload)?;
        let written = sched::in_background("kemala-index", || {
            self.writer.prepare_commit().and_then(|mut prepared| {
                prepared.set_payload(&json);
                prepared.commit()
            })
        });
        if let Err(e) = written {
            self.broken = true;
            return Err(anyhow::Error::new(e).context("cannot commit the index"));
        }
        self.num_pending = 0;
        // The commit is durable now, whatever follows. Until the reader sees
        // it, the pending ids keep recognising duplicates.
        match self.handle.reader.reload() {
            Ok(()) => self.pending_ids.clear(),
            Err(e) => {
                tracing::warn!("cannot reload the index reader (retried at the next commit): {e}")
            }
        }
        Ok(())
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.handle.reader.searcher()
    }

    pub fn handle(&self) -> &IndexHandle {
        &self.handle
    }
}
