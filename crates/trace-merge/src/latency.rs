//! Latency in bounded memory: the log2 buckets that `--summary`'s histogram and `--heatmap`'s
//! rows share, and the percentile sketch of `--summary`.
//!
//! [`LatencySketch`] keeps every duration (8 bytes each) up to [`EXACT_LIMIT`] opens, so small
//! traces get exact nearest-rank percentiles. Past that it folds them into a log-linear
//! histogram of fixed size (about 450 KB, whatever the input): values below 2048 ns are kept
//! exactly, larger ones in 1024 sub-buckets per power of two. Counts stay exact, so the rank is
//! still the nearest rank `ceil(p/100 * n)`; only the value at that rank is known to within its
//! sub-bucket, and the middle of the sub-bucket is reported, which is within
//! [`RELATIVE_ERROR_TEXT`] of the true value. The maximum is always exact. This is the
//! HdrHistogram layout with 3 significant digits, written out here (60 lines) so that the
//! percentile definition stays the integer nearest rank of the exact mode, not a float one.

/// Durations kept exactly before switching to the histogram: 4 MB of `u64`.
pub const EXACT_LIMIT: usize = 1 << 19;

/// Sub-buckets per power of two in the histogram (2^10): 3 significant decimal digits.
const SUB_BITS: u32 = 10;
const SUB: usize = 1 << SUB_BITS;
/// Values below this are their own bucket.
const LINEAR: u64 = 2 << SUB_BITS;
/// Buckets: 2048 exact values, then 1024 per power of two for the exponents 11..=63.
const SLOTS: usize = LINEAR as usize + (63 - SUB_BITS as usize) * SUB;

/// The bound on the error of a reported percentile once the histogram is in use: half a
/// sub-bucket, at most 1/2048 of the value.
pub const RELATIVE_ERROR_TEXT: &str = "0.05%";

/// bpftrace's log2 bucket: 0 for 0, 1 for 1, k for [2^(k-1), 2^k). 65 buckets in all.
pub fn log2_bucket(ns: u64) -> usize {
    if ns == 0 {
        0
    } else {
        64 - ns.leading_zeros() as usize
    }
}

/// `2^power` as bpftrace labels it: `512`, `1K`, `4M`, `16E`.
pub fn power_label(power: usize) -> String {
    let step = (power / 10).min(6);
    let suffix = ["", "K", "M", "G", "T", "P", "E"][step];
    format!("{}{suffix}", 1u64 << (power - step * 10))
}

/// Bucket `k` as bpftrace's `hist()` labels it: `[0]`, `[1]`, `[2, 4)`, `[1K, 2K)`.
pub fn log2_bucket_label(k: usize) -> String {
    match k {
        0 => "[0]".to_string(),
        1 => "[1]".to_string(),
        _ => format!("[{}, {})", power_label(k - 1), power_label(k)),
    }
}

impl Default for LatencySketch {
    fn default() -> Self {
        LatencySketch::new()
    }
}

/// Durations for nearest-rank percentiles, exact up to [`EXACT_LIMIT`], bounded after.
#[derive(Debug, Clone)]
pub struct LatencySketch {
    count: u64,
    max: u64,
    min: u64,
    exact: Vec<u64>,
    /// Empty until the exact limit is passed; then [`SLOTS`] counts.
    slots: Vec<u64>,
    log2: [u64; 65],
}

impl LatencySketch {
    /// An empty sketch.
    pub fn new() -> LatencySketch {
        LatencySketch {
            count: 0,
            max: 0,
            min: 0,
            exact: Vec::new(),
            slots: Vec::new(),
            log2: [0; 65],
        }
    }

    /// Records one duration.
    pub fn record(&mut self, ns: u64) {
        self.min = if self.count == 0 {
            ns
        } else {
            self.min.min(ns)
        };
        self.count += 1;
        self.max = self.max.max(ns);
        self.log2[log2_bucket(ns)] += 1;
        if self.slots.is_empty() {
            if self.exact.len() < EXACT_LIMIT {
                self.exact.push(ns);
                return;
            }
            self.slots = vec![0; SLOTS];
            for v in std::mem::take(&mut self.exact) {
                self.slots[slot(v)] += 1;
            }
        }
        self.slots[slot(ns)] += 1;
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True while every duration is kept, so percentiles are exact.
    pub fn is_exact(&self) -> bool {
        self.slots.is_empty()
    }

    /// The counts per log2 bucket ([`log2_bucket`]), always exact.
    pub fn log2_counts(&self) -> &[u64; 65] {
        &self.log2
    }

    /// The nearest-rank percentiles `ps` (each 0 < p <= 100, in increasing order): the value
    /// at 1-based rank `ceil(p/100 * n)`; exact while [`Self::is_exact`], within
    /// [`RELATIVE_ERROR_TEXT`] after. `p` = 100 is the exact maximum.
    pub fn percentiles(&mut self, ps: &[u32]) -> Vec<u64> {
        if self.count == 0 {
            return Vec::new();
        }
        let ranks: Vec<u64> = ps.iter().map(|&p| nearest_rank(self.count, p)).collect();
        if self.slots.is_empty() {
            // Selected, not sorted: each rank is found in what lies above the previous one.
            let mut below = 0;
            return ranks
                .iter()
                .map(|&rank| {
                    let k = (rank - 1) as usize;
                    debug_assert!(k >= below, "ranks asked in increasing order");
                    self.exact[below..].select_nth_unstable(k - below);
                    below = k;
                    self.exact[k]
                })
                .collect();
        }
        let mut out = Vec::with_capacity(ranks.len());
        // Ranks increase, so one walk over the slots finds them all: `below` values lie in
        // the slots before `i`.
        let (mut below, mut i) = (0u64, 0usize);
        for rank in ranks {
            if rank == self.count {
                out.push(self.max);
                continue;
            }
            while below + self.slots[i] < rank {
                below += self.slots[i];
                i += 1;
            }
            let (low, high) = slot_range(i);
            out.push((low + (high - low) / 2).clamp(self.min, self.max));
        }
        out
    }
}

/// 1-based rank `ceil(p * n / 100)`, at least 1.
fn nearest_rank(n: u64, p: u32) -> u64 {
    (u128::from(p) * u128::from(n))
        .div_ceil(100)
        .clamp(1, u128::from(n)) as u64
}

/// The histogram slot of a value.
fn slot(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS; // >= 1
    let mantissa = (v >> shift) as usize; // in [SUB, 2 * SUB)
    LINEAR as usize + (shift as usize - 1) * SUB + (mantissa - SUB)
}

/// The smallest and largest value of a slot.
fn slot_range(i: usize) -> (u64, u64) {
    if i < LINEAR as usize {
        return (i as u64, i as u64);
    }
    let shift = ((i - LINEAR as usize) / SUB + 1) as u32;
    let mantissa = (SUB + (i - LINEAR as usize) % SUB) as u64;
    let low = mantissa << shift;
    (low, low + ((1u64 << shift) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn exact_percentiles(values: &[u64], ps: &[u32]) -> Vec<u64> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        ps.iter()
            .map(|&p| sorted[(nearest_rank(sorted.len() as u64, p) - 1) as usize])
            .collect()
    }

    #[test]
    fn slots_cover_every_value_once() {
        for v in [
            0,
            1,
            2047,
            2048,
            2049,
            4095,
            4096,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let i = slot(v);
            assert!(i < SLOTS, "{v}");
            let (low, high) = slot_range(i);
            assert!(low <= v && v <= high, "{v} in slot {i} = [{low}, {high}]");
            // Half a slot is at most 1/2048 of the value.
            assert!((high - low) / 2 <= v / 2048, "{v}");
        }
        // Consecutive slots are contiguous.
        for i in 1..SLOTS {
            assert_eq!(slot_range(i).0, slot_range(i - 1).1 + 1, "slot {i}");
        }
        assert_eq!(slot_range(SLOTS - 1).1, u64::MAX);
    }

    #[test]
    fn nearest_rank_by_hand() {
        let mut sketch = LatencySketch::new();
        for v in (1..=10).map(|i| i * 100) {
            sketch.record(v);
        }
        // n = 10: p50 -> rank 5, p90 -> rank 9, p99 -> rank ceil(9.9) = 10.
        assert_eq!(
            sketch.percentiles(&[50, 90, 99, 100]),
            [500, 900, 1000, 1000]
        );
        assert!(sketch.is_exact());
        assert_eq!(LatencySketch::new().percentiles(&[50]), Vec::<u64>::new());
    }

    #[test]
    fn exact_mode_selects_the_sorted_ranks() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for n in [1usize, 2, 3, 10, 99, 100, 101, 1000, 4097] {
            let values: Vec<u64> = (0..n).map(|_| xorshift(&mut seed) % 5000).collect();
            let mut sketch = LatencySketch::new();
            values.iter().for_each(|&v| sketch.record(v));
            let ps = [1, 50, 50, 90, 99, 100];
            assert_eq!(
                sketch.percentiles(&ps),
                exact_percentiles(&values, &ps),
                "n = {n}"
            );
        }
    }

    #[test]
    fn past_the_exact_limit_percentiles_stay_within_the_bound() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let n = EXACT_LIMIT + 12_345;
        let values: Vec<u64> = (0..n)
            .map(|_| {
                let v = xorshift(&mut seed);
                // Spread over 0 ns .. ~1 s, log-uniformly.
                (v >> 34) >> (v % 30)
            })
            .collect();
        let mut sketch = LatencySketch::new();
        for &v in &values {
            sketch.record(v);
        }
        assert!(!sketch.is_exact());
        let ps = [1, 50, 50, 90, 99, 100];
        let want = exact_percentiles(&values, &ps);
        let got = sketch.percentiles(&ps);
        for ((&p, &w), &g) in ps.iter().zip(&want).zip(&got) {
            assert!(w.abs_diff(g) <= w / 2048, "p{p}: exact {w}, sketch {g}");
        }
        assert_eq!(got[5], *values.iter().max().unwrap());
        assert_eq!(sketch.count(), n as u64);
        let log2_total: u64 = sketch.log2_counts().iter().sum();
        assert_eq!(log2_total, n as u64);
    }

    #[test]
    fn small_values_are_exact_even_in_the_histogram() {
        let mut sketch = LatencySketch::new();
        let mut seed = 7;
        let values: Vec<u64> = (0..EXACT_LIMIT + 1000)
            .map(|_| xorshift(&mut seed) % 2048)
            .collect();
        for &v in &values {
            sketch.record(v);
        }
        let ps = [1, 10, 50, 90, 99, 100];
        assert_eq!(sketch.percentiles(&ps), exact_percentiles(&values, &ps));
    }

    #[test]
    fn buckets_and_labels_like_bpftrace() {
        assert_eq!(
            [0, 1, 2, 3, 4, 7, 8, 1023, 1024].map(log2_bucket),
            [0, 1, 2, 2, 3, 3, 4, 10, 11]
        );
        assert_eq!(log2_bucket(u64::MAX), 64);
        assert_eq!(power_label(9), "512");
        assert_eq!(power_label(10), "1K");
        assert_eq!(power_label(64), "16E");
        assert_eq!(log2_bucket_label(11), "[1K, 2K)");
        assert_eq!(log2_bucket_label(1), "[1]");
    }
}
