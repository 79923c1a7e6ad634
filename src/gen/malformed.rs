//! Malformed messages of every reject reason the decoder knows: empty, cut
//! or non-JSON, JSON that is not a tweet, missing fields, bad times, invalid
//! UTF-8, oversized and too deeply nested.

use super::*;

impl Generator {
    pub(super) fn malformed(&mut self) -> Generated {
        let reason = MALFORMED[self.malformed_count % MALFORMED.len()];
        self.malformed_count += 1;
        let rng = &mut self.rng;
        let id = self.last_id + 1;
        let when = dates::format_v2_time(self.last_event_ms);
        let v: u32 = rng.random_range(0..3);
        let payload: Vec<u8> = match reason {
            "empty" => {
                let choices: [&[u8]; 3] = [b"", b"  \n", b"\n"];
                choices[v as usize].to_vec()
            }
            "not_json" => match v {
                0 => {
                    let full = format!(
                        r#"{{"data": {{"id": "{id}", "text": "Banjir lagi di Genuk, mohon bantuan", "author_id": "123", "created_at": "{when}"}}}}"#
                    );
                    let cut = rng.random_range(1..full.len() - 2);
                    full.as_bytes()[..cut].to_vec()
                }
                1 => b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
                _ => b"banjir lagi di kaligawe".to_vec(),
            },
            "not_tweet" => match v {
                0 => format!(r#"{{"delete": {{"status": {{"id": {id}, "id_str": "{id}", "user_id": 123456}}, "timestamp_ms": "{}"}}}}"#, self.last_event_ms).into_bytes(),
                1 => br#"{"errors": [{"title": "operational-disconnect", "disconnect_type": "UpstreamOperationalDisconnect", "detail": "This stream has been disconnected upstream for operational reasons.", "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}"#.to_vec(),
                _ => br#"[{"keep": "alive"}]"#.to_vec(),
            },
            "missing_id" => match v {
                0 => format!(r#"{{"data": {{"text": "Jalan rusak di Ungaran", "author_id": "123", "created_at": "{when}"}}}}"#).into_bytes(),
                1 => format!(r#"{{"data": {{"id": "tweet-{id}", "text": "Sampah numpuk", "created_at": "{when}"}}}}"#).into_bytes(),
                _ => br#"{"text": "Lampu jalan mati", "created_at": "Mon Jan 05 07:00:00 +0000 2026", "user": {"id_str": "123", "screen_name": "warga"}}"#.to_vec(),
            },
            "missing_text" => match v {
                0 => format!(r#"{{"data": {{"id": "{id}", "author_id": "123", "created_at": "{when}"}}}}"#).into_bytes(),
                _ => format!(r#"{{"id_str": "{id}", "created_at": "Mon Jan 05 07:00:00 +0000 2026", "user": {{"id_str": "123"}}}}"#).into_bytes(),
            },
            "bad_created_at" => match v {
                0 => format!(r#"{{"data": {{"id": "{id}", "text": "Air PDAM mati", "created_at": "yesterday"}}}}"#).into_bytes(),
                1 => format!(r#"{{"data": {{"id": "{id}", "text": "Air PDAM mati", "created_at": "2026-13-45T25:61:00Z"}}}}"#).into_bytes(),
                _ => format!(r#"{{"id_str": "{id}", "text": "Macet total", "user": {{"id_str": "123"}}}}"#).into_bytes(),
            },
            "not_utf8" => {
                let mut p = format!(r#"{{"data": {{"id": "{id}", "text": "banjir "#).into_bytes();
                p.extend_from_slice(b"\xff\xfe");
                p.extend_from_slice(format!(r#"", "created_at": "{when}"}}}}"#).as_bytes());
                p
            }
            "oversized" => {
                let n = self.t.max_message_bytes.max(64 * 1024) + rng.random_range(1..8192);
                let mut p = format!(r#"{{"data": {{"id": "{id}", "created_at": "{when}", "text": ""#).into_bytes();
                let phrase = b"tolong banjir ";
                while p.len() < n {
                    p.extend_from_slice(phrase);
                }
                p.extend_from_slice(b"\"}}");
                p
            }
            _ => {
                // too_deep
                let depth = 4800 + rng.random_range(0..400);
                let mut p = Vec::with_capacity(depth * 8);
                if v == 0 {
                    p.resize(depth, b'[');
                    p.resize(depth * 2, b']');
                } else {
                    for _ in 0..depth {
                        p.extend_from_slice(b"{\"a\":");
                    }
                    p.push(b'1');
                    p.resize(p.len() + depth, b'}');
                }
                p
            }
        };
        Generated {
            payload,
            truth: Truth::Malformed { reason },
        }
    }
}
