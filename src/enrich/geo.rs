//! Where a point is: in one of Central Java's 35 regencies and cities,
//! elsewhere in Indonesia (`outside`), or at sea.
//!
//! The boundaries are the bundled polygons of `assets/geo/` (derived from
//! cahyadsn/wilayah_boundaries, MIT; see its README). They are parsed once per
//! process, on first use, into flat rings with a bounding box per regency and
//! per polygon part, so a point is ray-cast only against the few parts whose
//! box holds it: about a microsecond.
//!
//! A point in no polygon is at sea or just off a coast (a pier, reclaimed
//! land, the simplification's 110 m): it belongs to the nearest Central Java
//! regency within [`COAST_KM`]; failing that, it is `outside` when another
//! province is within [`OFFSHORE_KM`] and nearer than Central Java; anything
//! else (the open Java Sea, the Indian Ocean, abroad) is unknown.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::RegionCode;

const JATENG_GEOJSON: &str = include_str!("../../assets/geo/jateng-adm2.geojson");
const OUTSIDE_GEOJSON: &str = include_str!("../../assets/geo/outside.geojson");

/// A point at sea this close to a Central Java regency is in it.
pub const COAST_KM: f64 = 2.0;
/// A point at sea this close to another province, and nearer to it than to
/// Central Java, is outside: 12 nautical miles, the reach of a province's sea.
pub const OFFSHORE_KM: f64 = 22.2;

const KM_PER_DEGREE_LAT: f64 = 110.574;
const KM_PER_DEGREE_LON_AT_EQUATOR: f64 = 111.320;

/// One part of a (multi)polygon: its outer ring and holes, each closed
/// (first vertex repeated last), `[lon, lat]`.
struct Part {
    bbox: [f64; 4],
    rings: Vec<Vec<[f64; 2]>>,
}

/// A regency (or, outside, a province) and its parts.
struct Area {
    code: RegionCode,
    bbox: [f64; 4],
    parts: Vec<Part>,
}

/// The bundled boundaries, ready for point queries.
pub struct Boundaries {
    jateng: Vec<Area>,
    outside: Vec<Area>,
    jateng_bbox: [f64; 4],
}

#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
    geometry: Geometry,
}

#[derive(Deserialize)]
struct Properties {
    code: String,
    #[serde(default)]
    level: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
}

/// The bundled boundaries, parsed on first use.
pub fn boundaries() -> &'static Boundaries {
    static BOUNDARIES: OnceLock<Boundaries> = OnceLock::new();
    // The bundled files are checked by this module's tests; they cannot fail
    // to parse at run time.
    BOUNDARIES.get_or_init(|| {
        Boundaries::parse(JATENG_GEOJSON, OUTSIDE_GEOJSON).expect("bundled boundaries")
    })
}

fn bbox_of<'a>(points: impl Iterator<Item = &'a [f64; 2]>) -> [f64; 4] {
    points.fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |[w, s, e, n], [x, y]| [w.min(*x), s.min(*y), e.max(*x), n.max(*y)],
    )
}

fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

fn holds(b: &[f64; 4], lon: f64, lat: f64) -> bool {
    lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3]
}

fn area(code: RegionCode, geometry: Geometry) -> Area {
    let polygons = match geometry {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(ps) => ps,
    };
    let parts: Vec<Part> = polygons
        .into_iter()
        .filter(|rings| rings.first().is_some_and(|r| r.len() >= 4))
        .map(|rings| Part {
            bbox: bbox_of(rings[0].iter()),
            rings,
        })
        .collect();
    let bbox = parts.iter().map(|p| p.bbox).fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        union,
    );
    Area { code, bbox, parts }
}

impl Boundaries {
    /// Central Java's regencies (`code` a BPS code) and the areas outside it;
    /// of the outside file only the provinces (`level = "adm1"`) are kept,
    /// since its regencies cover the same ground and every hit there is
    /// `outside` alike.
    pub fn parse(jateng: &str, outside: &str) -> anyhow::Result<Boundaries> {
        let j: FeatureCollection = serde_json::from_str(jateng)
            .map_err(|e| anyhow::anyhow!("Central Java boundaries: {e}"))?;
        let o: FeatureCollection = serde_json::from_str(outside)
            .map_err(|e| anyhow::anyhow!("outside boundaries: {e}"))?;
        let mut areas = Vec::new();
        for f in j.features {
            let code: u16 = f.properties.code.parse().map_err(|_| {
                anyhow::anyhow!(
                    "Central Java boundaries: `{}` is not a BPS code",
                    f.properties.code
                )
            })?;
            areas.push(area(RegionCode(code), f.geometry));
        }
        let outside = o
            .features
            .into_iter()
            .filter(|f| f.properties.level.as_deref() == Some("adm1"))
            .map(|f| area(RegionCode::OUTSIDE, f.geometry))
            .collect();
        let jateng_bbox = areas.iter().map(|a| a.bbox).fold(
            [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
            union,
        );
        Ok(Boundaries {
            jateng: areas,
            outside,
            jateng_bbox,
        })
    }

    /// The box around Central Java's regencies: `[west, south, east, north]`.
    pub fn jateng_bbox(&self) -> [f64; 4] {
        self.jateng_bbox
    }

    /// The BPS codes of the Central Java regencies the data has.
    pub fn codes(&self) -> impl Iterator<Item = RegionCode> + '_ {
        self.jateng.iter().map(|a| a.code)
    }

    /// The region a point lies in: a Central Java regency, `outside`, or
    /// unknown (see the module's rule for points in no polygon).
    pub fn locate(&self, lon: f64, lat: f64) -> RegionCode {
        if !(lon.is_finite() && lat.is_finite()) {
            return RegionCode::UNKNOWN;
        }
        if let Some(code) = inside(&self.jateng, lon, lat) {
            return code;
        }
        if let Some(code) = inside(&self.outside, lon, lat) {
            return code;
        }
        if let Some((_, code)) = nearest(&self.jateng, lon, lat, COAST_KM) {
            return code;
        }
        match nearest(&self.outside, lon, lat, OFFSHORE_KM) {
            // Outside, unless Central Java is nearer still.
            Some((d, _)) if nearest(&self.jateng, lon, lat, d).is_none() => RegionCode::OUTSIDE,
            _ => RegionCode::UNKNOWN,
        }
    }
}

fn inside(areas: &[Area], lon: f64, lat: f64) -> Option<RegionCode> {
    areas
        .iter()
        .filter(|a| holds(&a.bbox, lon, lat))
        .find(|a| {
            a.parts.iter().any(|p| {
                holds(&p.bbox, lon, lat)
                    && p.rings.iter().filter(|r| crosses_odd(r, lon, lat)).count() % 2 == 1
            })
        })
        .map(|a| a.code)
}

/// Whether a ray from the point towards +lon crosses the ring an odd number
/// of times (the even-odd rule; holes are rings too).
fn crosses_odd(ring: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let mut odd = false;
    for w in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (w[0], w[1]);
        if (y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1) {
            odd = !odd;
        }
    }
    odd
}

/// The nearest area whose border is within `limit_km` of the point, and
/// how far (km). Distances are planar at the point's latitude: well under
/// 1% off at these ranges.
fn nearest(areas: &[Area], lon: f64, lat: f64, limit_km: f64) -> Option<(f64, RegionCode)> {
    let kx = KM_PER_DEGREE_LON_AT_EQUATOR * lat.to_radians().cos();
    let ky = KM_PER_DEGREE_LAT;
    let (dx, dy) = (limit_km / kx, limit_km / ky);
    let near =
        |b: &[f64; 4]| lon >= b[0] - dx && lon <= b[2] + dx && lat >= b[1] - dy && lat <= b[3] + dy;
    let mut best: Option<(f64, RegionCode)> = None;
    let mut reach = limit_km;
    for a in areas.iter().filter(|a| near(&a.bbox)) {
        for p in a.parts.iter().filter(|p| near(&p.bbox)) {
            for ring in &p.rings {
                for w in ring.windows(2) {
                    let (ax, ay) = ((w[0][0] - lon) * kx, (w[0][1] - lat) * ky);
                    let (bx, by) = ((w[1][0] - lon) * kx, (w[1][1] - lat) * ky);
                    // Both ends beyond the reach on one side: too far.
                    if (ax > reach && bx > reach)
                        || (ax < -reach && bx < -reach)
                        || (ay > reach && by > reach)
                        || (ay < -reach && by < -reach)
                    {
                        continue;
                    }
                    let d = segment_distance(ax, ay, bx, by);
                    if d <= reach && best.is_none_or(|(b, _)| d < b) {
                        best = Some((d, a.code));
                        reach = d;
                    }
                }
            }
        }
    }
    best
}

/// The distance from the origin to the segment (a, b).
fn segment_distance(ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
    let (vx, vy) = (bx - ax, by - ay);
    let len2 = vx * vx + vy * vy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(ax * vx + ay * vy) / len2).clamp(0.0, 1.0)
    };
    let (px, py) = (ax + t * vx, ay + t * vy);
    (px * px + py * py).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(code: RegionCode) -> String {
        match code {
            RegionCode::OUTSIDE => "outside".into(),
            RegionCode::UNKNOWN => "unknown".into(),
            c => c.0.to_string(),
        }
    }

    fn check(lon: f64, lat: f64, expected: &str) {
        assert_eq!(
            label(boundaries().locate(lon, lat)),
            expected,
            "({lat}, {lon})"
        );
    }

    #[test]
    fn the_bundled_boundaries_have_every_regency_and_province() {
        let b = boundaries();
        let mut codes: Vec<u16> = b.codes().map(|c| c.0).collect();
        codes.sort_unstable();
        let want: Vec<u16> = (3301..=3329).chain(3371..=3376).collect();
        assert_eq!(codes, want);
        // 37 provinces besides Central Java.
        assert_eq!(b.outside.len(), 37);
    }

    #[test]
    fn neighbours_that_nearest_centroids_misplaced_are_outside() {
        // Regression: the nearest-centroid rule put these in Kab. Magelang,
        // Brebes, Cilacap, Blora and Wonogiri.
        for (place, lat, lon) in [
            ("Kota Yogyakarta", -7.797, 110.370),
            ("Sleman", -7.716, 110.355),
            ("Bantul", -7.888, 110.329),
            ("Kota Cirebon", -6.732, 108.552),
            ("Kuningan", -6.976, 108.484),
            ("Kota Banjar", -7.370, 108.535),
            ("Ngawi", -7.404, 111.446),
            ("Bojonegoro", -7.150, 111.882),
            ("Magetan", -7.652, 111.332),
            ("Pacitan", -8.194, 111.106),
            ("Monas, Jakarta", -6.1754, 106.8272),
            ("Tugu Pahlawan, Surabaya", -7.2458, 112.7378),
            ("Denpasar", -8.6705, 115.2126),
            ("Medan", 3.5952, 98.6722),
        ] {
            let _ = place;
            check(lon, lat, "outside");
        }
    }

    #[test]
    fn islands_enclaves_and_same_named_pairs() {
        for (lat, lon, code) in [
            (-5.850, 110.430, "3320"),   // Karimunjawa, Jepara
            (-5.870, 110.4455, "3320"),  // Karimunjawa, the island's east
            (-7.730, 108.900, "3301"),   // Nusakambangan, Cilacap
            (-6.9903, 110.4229, "3374"), // Simpang Lima, Kota Semarang
            (-7.1391, 110.4050, "3322"), // Ungaran, Kab. Semarang
            (-7.4778, 110.2177, "3371"), // Alun-alun Kota Magelang
            (-7.5800, 110.2600, "3308"), // Kota Mungkid, Kab. Magelang
            (-7.6079, 110.2038, "3308"), // Borobudur
            (-6.8886, 109.6753, "3375"), // Kota Pekalongan
            (-7.0276, 109.5836, "3326"), // Kajen, Kab. Pekalongan
            (-6.8667, 109.1377, "3376"), // Kota Tegal
            (-6.9824, 109.1399, "3328"), // Slawi, Kab. Tegal
            (-7.5775, 110.8277, "3372"), // Kraton Surakarta
            (-7.3305, 110.5084, "3373"), // Salatiga, inside Kab. Semarang
        ] {
            check(lon, lat, code);
        }
    }

    #[test]
    fn points_at_sea_follow_the_coast_rule() {
        // Just off a coast: the nearest regency within 2 km.
        check(110.4200, -6.9400, "3374"); // Semarang harbour, past the breakwater
        check(110.4278, -5.8794, "3320"); // Karimunjawa harbour
        check(110.4300, -5.9000, "3320"); // off Karimunjawa
                                          // Farther out, nearer another province: outside.
        check(106.8200, -6.0500, "outside"); // Jakarta Bay
        check(112.9000, -6.7000, "outside"); // the Java Sea north of Madura
        check(108.8000, -6.7500, "outside"); // off Losari, nearer Cirebon than Brebes
                                             // The open sea off Central Java, and far from anywhere: unknown.
        check(110.4000, -6.6000, "unknown"); // 22 km north of Demak
        check(111.0000, -6.3000, "unknown"); // 12 km off Jepara
        check(110.0000, -8.8000, "unknown"); // the Indian Ocean south of Purworejo
        check(0.0, 0.0, "unknown");
        check(f64::NAN, -7.0, "unknown");
    }

    /// Points 300 m and 500 m inside each side of every shared border of
    /// two regencies (73 pairs), and on both sides of the provincial land
    /// border, computed from the unsimplified boundaries: see the file's
    /// header.
    #[test]
    fn points_near_every_border_land_on_the_right_side() {
        let data = include_str!("../../tests/data/region-borders.csv");
        let mut n = 0;
        let mut codes = std::collections::BTreeSet::new();
        for line in data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut f = line.split(',');
            let (Some(lon), Some(lat), Some(code)) = (f.next(), f.next(), f.next()) else {
                panic!("bad line `{line}`");
            };
            check(lon.parse().unwrap(), lat.parse().unwrap(), code);
            codes.insert(code.to_string());
            n += 1;
        }
        assert!(n > 2000, "{n} points");
        assert_eq!(codes.len(), 36, "every regency and outside: {codes:?}");
    }

    #[test]
    fn locating_a_point_is_fast() {
        // Not an assertion: a figure for the enrichment budget (15 µs a tweet).
        let b = boundaries();
        let points: Vec<(f64, f64)> = (0..2000)
            .map(|i| {
                let f = i as f64 / 2000.0;
                (108.5 + 3.3 * f, -8.0 + 1.9 * ((f * 37.0).fract()))
            })
            .collect();
        let (land, sea): (Vec<_>, Vec<_>) = points
            .iter()
            .partition(|(lon, lat)| inside(&b.jateng, *lon, *lat).is_some());
        for (what, points) in [("in a regency", land), ("elsewhere", sea)] {
            let started = std::time::Instant::now();
            for _ in 0..5 {
                for &(lon, lat) in &points {
                    std::hint::black_box(b.locate(lon, lat));
                }
            }
            let per = started.elapsed().as_secs_f64() * 1e6 / (5 * points.len()) as f64;
            eprintln!(
                "locate: {per:.2} µs per point {what} ({} points)",
                points.len()
            );
        }
    }
}
